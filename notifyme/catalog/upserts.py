"""The mirror's create/refresh path: `product_upsert` and `variant_upsert`.

Idempotent by (shop, Shopify id), saving only fields that changed. Stock facts (quantity,
tracking, policy) are written by the upsert only when it creates the variant; for an existing
variant a difference goes through `stock.variant_update_stock` in the same transaction, so a
refresh never changes stock behind restock detection's back. `keep_stock=True` leaves an
existing variant's stock as it is (the demo keeps what a tester changed). Arguments left None
(product status and publication, a variant's inventory item) keep what the mirror has.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from notifyme.catalog.models import Product, Variant
from notifyme.catalog.stock import StockUpdate, variant_update_stock
from notifyme.shops.models import Shop


@dataclass(frozen=True)
class VariantUpsert:
    """What `variant_upsert` did: the row, whether it was new, and the stock write, if any."""

    variant: Variant
    created: bool
    stock: StockUpdate | None = None


def _refresh(row: Product | Variant, fields: dict[str, Any]) -> None:
    """Save the fields of `fields` that differ from `row` (nothing, not even `updated_at`, when
    none does)."""
    changed = [name for name, value in fields.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, fields[name])
    if changed:
        row.save(update_fields=[*changed, "updated_at"])


def _given(**values: Any) -> dict[str, Any]:
    """The arguments that were given (None: keep the mirror's value)."""
    return {name: value for name, value in values.items() if value is not None}


@transaction.atomic
def product_upsert(
    *,
    shop: Shop,
    shopify_id: int,
    title: str,
    handle: str = "",
    image_url: str = "",
    shopify_updated_at: datetime | None = None,
    status: str | None = None,
    published_online: bool | None = None,
) -> tuple[Product, bool]:
    """Create or refresh the mirror of one Shopify product; returns (product, created)."""
    fields: dict[str, Any] = {"title": title, "handle": handle, "image_url": image_url,
                              "shopify_updated_at": shopify_updated_at}
    fields.update(_given(status=status, published_online=published_online))
    product, created = Product.objects.select_for_update().get_or_create(
        shop=shop, shopify_id=shopify_id, defaults=fields)
    if not created:
        _refresh(product, fields)
    return product, created


@transaction.atomic
def variant_upsert(
    *,
    product: Product,
    shopify_id: int,
    title: str = "",
    sku: str = "",
    price: Decimal = Decimal("0"),
    image_url: str = "",
    quantity: int = 0,
    inventory_tracked: bool = True,
    inventory_policy: str = Variant.InventoryPolicy.DENY,
    shopify_updated_at: datetime | None = None,
    inventory_item_id: int | None = None,
    keep_stock: bool = False,
) -> VariantUpsert:
    """Create or refresh the mirror of one variant of `product` (same shop).

    On create every field is written as given. On refresh the descriptive fields are saved
    where they differ, and a different quantity, tracking or policy is written by
    `variant_update_stock` (restock detection runs), unless `keep_stock`.
    """
    stock = {"available_quantity": quantity, "inventory_tracked": inventory_tracked,
             "inventory_policy": inventory_policy}
    fields: dict[str, Any] = {"product": product, "title": title, "sku": sku, "price": price,
                              "image_url": image_url, "shopify_updated_at": shopify_updated_at}
    fields.update(_given(inventory_item_id=inventory_item_id))
    variant, created = Variant.objects.select_for_update().get_or_create(
        shop_id=product.shop_id, shopify_id=shopify_id, defaults={**fields, **stock})
    if created:
        return VariantUpsert(variant, created=True)
    _refresh(variant, fields)
    if keep_stock or all(getattr(variant, name) == value for name, value in stock.items()):
        return VariantUpsert(variant, created=False)
    update = variant_update_stock(variant=variant, quantity=quantity,
                                  inventory_tracked=inventory_tracked,
                                  inventory_policy=inventory_policy)
    variant.inventory_tracked, variant.inventory_policy = inventory_tracked, inventory_policy
    return VariantUpsert(variant, created=False, stock=update)
