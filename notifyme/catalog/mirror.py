"""Shopify's product changes applied to the mirror: `product_apply` and `product_remove`.

Webhooks arrive out of order and more than once, and the catalog sync reads the same products:
every source converts to a `ProductSnapshot` and `product_apply` writes it only when it is not
older than what the mirror holds (Shopify's `updated_at`; an equal one applies again and changes
nothing, so a redelivery is harmless). Variants go through `variant_upsert`, so a stock change
goes through `variant_update_stock` and restock detection. A variant's quantity comes from its
per-location levels once the mirror has any (they know which locations count), else from the
snapshot (REST's `inventory_quantity` is the total of every location).

Removal keeps rows (subscriptions and restock history point at them) and stamps `removed_at`;
no restock starts for a removed product or variant. A delete that arrives before the product
was ever mirrored leaves a tombstone row, so a late `products/create` older than the delete does
not bring it back. Waiting subscriptions of a removed product are kept as they are (see
docs/catalog.md: nothing is sent to shoppers or Klaviyo; support sees the product as removed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from notifyme.catalog.inventory import inventory_item_free, sellable_quantity
from notifyme.catalog.models import Product, Variant
from notifyme.catalog.snapshots import ProductSnapshot, VariantSnapshot
from notifyme.catalog.stock import StockUpdate, variant_update_stock
from notifyme.catalog.upserts import product_upsert, variant_upsert
from notifyme.shops.models import Shop


@dataclass(frozen=True)
class ProductApplied:
    """What `product_apply` / `product_remove` did: applied, or why not (`reason`)."""

    product: Product | None
    applied: bool
    reason: str = ""
    created: bool = False
    stock: tuple[StockUpdate, ...] = field(default=())
    variants_removed: int = 0

    def describe(self) -> str:
        """One line for support (the webhook event's outcome)."""
        if not self.applied:
            return f"not applied: {self.reason}"
        ident = self.product.shopify_id if self.product is not None else "?"
        text = f"product {ident} {'created' if self.created else (self.reason or 'applied')}"
        if self.variants_removed:
            text += f", {self.variants_removed} variant(s) removed"
        return "; ".join([text, *(update.describe() for update in self.stock)])


def older(at: datetime | None, mirrored: datetime | None) -> bool:
    return at is not None and mirrored is not None and at < mirrored


def product_stale(existing: Product | None, at: datetime | None) -> str:
    """Why a snapshot of `at` must not be applied over `existing` ("" = apply it)."""
    if existing is None:
        return ""
    if existing.removed_at is not None and (at is None or at <= existing.removed_at):
        return f"the product was removed in Shopify at {existing.removed_at.isoformat()}"
    mirrored = existing.shopify_updated_at
    if at is None and mirrored is not None:
        return "the snapshot has no updated_at and the mirror has a newer one"
    if older(at, mirrored):
        assert at is not None and mirrored is not None
        return f"older than the mirror (updated_at {at.isoformat()} < {mirrored.isoformat()})"
    return ""


def _quantity(existing: Variant | None, snapshot: VariantSnapshot) -> int:
    if existing is None:
        return snapshot.quantity or 0
    from_levels = sellable_quantity(variant=existing)
    if from_levels is not None:
        return from_levels
    return existing.available_quantity if snapshot.quantity is None else snapshot.quantity


def _variant_apply(product: Product, snapshot: VariantSnapshot) -> StockUpdate | None:
    existing = (Variant.objects.select_related("shop")
                .filter(shop_id=product.shop_id, shopify_id=snapshot.shopify_id).first())
    if existing is not None and older(snapshot.updated_at, existing.shopify_updated_at):
        return None
    if snapshot.inventory_item_id is not None:
        inventory_item_free(shop=product.shop, inventory_item_id=snapshot.inventory_item_id,
                            keep_shopify_id=snapshot.shopify_id)
    upserted = variant_upsert(
        product=product, shopify_id=snapshot.shopify_id, title=snapshot.title, sku=snapshot.sku,
        price=snapshot.price, image_url=snapshot.image_url,
        quantity=_quantity(existing, snapshot), inventory_tracked=snapshot.inventory_tracked,
        inventory_policy=snapshot.inventory_policy, shopify_updated_at=snapshot.updated_at,
        inventory_item_id=snapshot.inventory_item_id)
    if upserted.variant.removed_at is not None:
        Variant.objects.filter(pk=upserted.variant.pk).update(removed_at=None)
    return upserted.stock


def _recheck(product: Product, *, skip: set[int]) -> list[StockUpdate]:
    """The product just became restockable (published, or back after a removal): variants in
    stock run through detection again, so subscribers who waited while it was hidden hear now."""
    variants = Variant.objects.filter(product=product, removed_at__isnull=True,
                                      available_quantity__gt=0).exclude(shopify_id__in=skip)
    return [variant_update_stock(variant=v, quantity=v.available_quantity) for v in variants]


@transaction.atomic
def product_apply(*, shop: Shop, snapshot: ProductSnapshot) -> ProductApplied:
    """Mirror one product and its variants, unless the snapshot is older than the mirror.

    Returns `applied=False` with the reason for a stale snapshot (nothing written). With
    `complete_variants`, mirrored variants missing from the snapshot are marked removed.
    """
    existing = (Product.objects.select_for_update()
                .filter(shop=shop, shopify_id=snapshot.shopify_id).first())
    stale = product_stale(existing, snapshot.updated_at)
    if stale:
        return ProductApplied(existing, applied=False, reason=stale)
    was_restockable = existing is None or existing.restockable
    product, created = product_upsert(
        shop=shop, shopify_id=snapshot.shopify_id, title=snapshot.title, handle=snapshot.handle,
        image_url=snapshot.image_url, shopify_updated_at=snapshot.updated_at,
        status=snapshot.status, published_online=snapshot.published_online)
    if product.removed_at is not None:
        product.removed_at = None
        product.save(update_fields=["removed_at", "updated_at"])
    updates = [u for u in (_variant_apply(product, v) for v in snapshot.variants) if u]
    removed = 0
    seen = {v.shopify_id for v in snapshot.variants}
    if snapshot.complete_variants:
        removed = (Variant.objects.filter(product=product, removed_at__isnull=True)
                   .exclude(shopify_id__in=seen).update(removed_at=timezone.now()))
    if not was_restockable and product.restockable:
        updates += _recheck(product, skip={u.variant.shopify_id for u in updates})
    return ProductApplied(product, applied=True, created=created, stock=tuple(updates),
                          variants_removed=removed)


@transaction.atomic
def product_remove(*, shop: Shop, shopify_id: int, at: datetime | None = None
                   ) -> ProductApplied:
    """Shopify deleted the product (`products/delete`): stamp it and its variants removed at
    `at` (default now). Idempotent. An unknown product gets a tombstone row, so a late create
    older than the delete is refused by `product_apply`."""
    at = at or timezone.now()
    product, created = Product.objects.select_for_update().get_or_create(
        shop=shop, shopify_id=shopify_id, defaults={"title": "", "removed_at": at})
    if not created and product.removed_at is not None:
        return ProductApplied(product, applied=False, reason="already removed")
    if not created:
        product.removed_at = at
        product.save(update_fields=["removed_at", "updated_at"])
    removed = Variant.objects.filter(product=product, removed_at__isnull=True).update(
        removed_at=at)
    return ProductApplied(product, applied=True, reason="removed", variants_removed=removed)
