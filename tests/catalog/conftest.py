"""Catalog fixtures: snapshots as Shopify's sources produce them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from notifyme.catalog.snapshots import LevelSnapshot, ProductSnapshot, VariantSnapshot

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
PRODUCT_ID = 632910392  # Shopify's sample ids are small; real ones exceed 2**53
VARIANT_ID = 2**53 + 11
ITEM_ID = 2**53 + 808950810
LOCATION_A = 2**53 + 905684977
LOCATION_B = 2**53 + 24826418


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def variant_snapshot(shopify_id: int = VARIANT_ID, *, item: int | None = ITEM_ID,
                     minutes: int = 0, **fields: Any) -> VariantSnapshot:
    fields.setdefault("title", "Large")
    fields.setdefault("sku", f"SKU-{shopify_id}")
    fields.setdefault("price", Decimal("49.00"))
    fields.setdefault("quantity", 0)
    return VariantSnapshot(shopify_id=shopify_id, inventory_item_id=item,
                           updated_at=at(minutes), **fields)


def product_snapshot(*, minutes: int = 0, variants: tuple[VariantSnapshot, ...] | None = None,
                     shopify_id: int = PRODUCT_ID, **fields: Any) -> ProductSnapshot:
    fields.setdefault("title", "Linen Shirt")
    fields.setdefault("handle", "linen-shirt")
    return ProductSnapshot(
        shopify_id=shopify_id, updated_at=at(minutes),
        variants=variants if variants is not None else (variant_snapshot(minutes=minutes),),
        **fields)


def level(available: int, *, location: int = LOCATION_A, item: int = ITEM_ID,
          minutes: int = 0) -> LevelSnapshot:
    return LevelSnapshot(inventory_item_id=item, location_id=location, available=available,
                         updated_at=at(minutes))
