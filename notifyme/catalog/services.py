"""Writes to the catalog mirror: products and variants, and the one place a variant's stock changes.

`variant_update_stock` is what webhooks, the support admin and `manage.py restock` call. It
locks the variant row, writes the new quantity and fires `hooks.stock_changed` in the same
transaction, so what other apps do about the change (the restocks app starts a restock when a
sold-out variant comes back) is written with it or not at all, and two concurrent updates of one
variant are seen one after the other.

`product_upsert` and `variant_upsert` are the mirror's create/refresh path (the demo loader and
tests today, Shopify's catalog sync next), idempotent by (shop, Shopify id) and saving only
fields that changed. Stock facts (quantity, tracking, policy) are written by the upsert only when
it creates the variant; for an existing variant a difference goes through
`variant_update_stock` in the same transaction, so a refresh never changes stock behind restock
detection's back. `keep_stock=True` leaves an existing variant's stock as it is (the demo keeps
what a tester changed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.db import transaction

from notifyme.catalog import hooks
from notifyme.catalog.hooks import StockChange, StockReaction
from notifyme.catalog.models import Product, Variant
from notifyme.shops.models import Shop

#: The quantity a simulated restock brings back (at least: see `hooks.restock_quantity`).
SIMULATED_QUANTITY = 10

R = TypeVar("R")


@dataclass(frozen=True)
class StockUpdate:
    """A stock write and what the apps registered on `hooks.stock_changed` did about it."""

    variant: Variant
    previous_quantity: int
    quantity: int
    reactions: tuple[StockReaction, ...] = ()

    def describe(self) -> str:
        """One line for people: the reactions' sentences, or the change itself."""
        if self.reactions:
            return "; ".join(reaction.describe() for reaction in self.reactions)
        return f"stock {self.previous_quantity} → {self.quantity}"

    @property
    def acted(self) -> bool:
        """Did any registered app start something because of this change?"""
        return any(reaction.acted for reaction in self.reactions)

    def reaction(self, kind: type[R]) -> R | None:
        """The first reaction of type `kind`, if a callback made one."""
        return next((r for r in self.reactions if isinstance(r, kind)), None)


def variant_update_stock(
    *,
    variant: Variant,
    quantity: int,
    inventory_tracked: bool | None = None,
    inventory_policy: str | None = None,
) -> StockUpdate:
    """Mirror a new sellable quantity (and, when given, tracking and policy); tell the apps.

    One transaction: the variant row is locked, updated, and `hooks.stock_changed` runs with
    the locked row before the commit. The caller's instance gets the new quantity.
    """
    with transaction.atomic():
        locked = Variant.objects.select_for_update().select_related("shop", "product").get(
            pk=variant.pk
        )
        previous = locked.available_quantity
        locked.available_quantity = quantity
        fields = ["available_quantity", "updated_at"]
        if inventory_tracked is not None:
            locked.inventory_tracked = inventory_tracked
            fields.append("inventory_tracked")
        if inventory_policy is not None:
            locked.inventory_policy = inventory_policy
            fields.append("inventory_policy")
        locked.save(update_fields=fields)
        change = StockChange(variant=locked, previous_quantity=previous, quantity=quantity)
        reactions = hooks.stock_reactions(change=change)
    variant.available_quantity = quantity
    return StockUpdate(locked, previous, quantity, reactions)


def variant_simulate_restock(*, variant: Variant) -> StockUpdate:
    """Support's test of the whole path: sell the variant out, then bring back
    `SIMULATED_QUANTITY` (or whatever the registered apps count as a restock, if more).
    Returns the second update."""
    variant_update_stock(variant=variant, quantity=0)
    quantity = hooks.restock_quantity(shop=variant.shop, at_least=SIMULATED_QUANTITY)
    return variant_update_stock(variant=variant, quantity=quantity)


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


@transaction.atomic
def product_upsert(
    *,
    shop: Shop,
    shopify_id: int,
    title: str,
    handle: str = "",
    image_url: str = "",
    shopify_updated_at: datetime | None = None,
) -> tuple[Product, bool]:
    """Create or refresh the mirror of one Shopify product; returns (product, created)."""
    fields: dict[str, Any] = {"title": title, "handle": handle, "image_url": image_url,
                              "shopify_updated_at": shopify_updated_at}
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
