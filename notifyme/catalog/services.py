"""The catalog's services, in one namespace (each lives in a small module of its own).

- `stock`: `variant_update_stock`, the one place a variant's stock changes (it fires
  `hooks.stock_changed` in the write's transaction: restock detection), and
  `variant_simulate_restock` (support's test).
- `upserts`: `product_upsert` / `variant_upsert`, the create/refresh path (demo, tests, the
  building blocks of the appliers below).
- `mirror`: `product_apply` / `product_remove`, Shopify's product changes (webhooks, catalog
  sync), newer-only by Shopify's `updated_at`.
- `inventory`: `locations_apply`, `inventory_levels_apply` (per-location stock → the variant's
  sellable quantity), `shop_alert_locations_set` (the merchant's choice of counted locations),
  `variant_link_inventory_item`.
- `batch`: `catalog_apply_batch`, the catalog sync's path (new products, variants and levels
  inserted in bulk; the rest through `mirror` / `inventory`).
"""

from __future__ import annotations

from notifyme.catalog.batch import BatchApplied, catalog_apply_batch
from notifyme.catalog.inventory import (
    AlertLocationsError,
    inventory_levels_apply,
    locations_apply,
    shop_alert_locations_set,
    variant_link_inventory_item,
)
from notifyme.catalog.mirror import ProductApplied, product_apply, product_remove
from notifyme.catalog.stock import (
    SIMULATED_QUANTITY,
    StockUpdate,
    variant_simulate_restock,
    variant_update_stock,
)
from notifyme.catalog.upserts import VariantUpsert, product_upsert, variant_upsert

__all__ = [
    "SIMULATED_QUANTITY",
    "AlertLocationsError",
    "BatchApplied",
    "ProductApplied",
    "StockUpdate",
    "VariantUpsert",
    "catalog_apply_batch",
    "inventory_levels_apply",
    "locations_apply",
    "product_apply",
    "product_remove",
    "product_upsert",
    "shop_alert_locations_set",
    "variant_link_inventory_item",
    "variant_simulate_restock",
    "variant_update_stock",
    "variant_upsert",
]
