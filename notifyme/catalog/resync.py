"""Re-syncing products the mirror already holds: skip what did not change, write the rest in bulk.

A full re-sync reads every product again, and almost all of them are as the mirror holds them.
`product_apply` would still lock and read each product and each variant (~30 ms a variant), so
`batch.catalog_apply_batch` sorts the mirrored products of a batch first (`products_sort`),
comparing the snapshot with the mirror's rows — the fields the mirror keeps, which is the
content fingerprint, plus Shopify's `updated_at`:

- *stale*: older than the mirror (`mirror.product_stale`: newer-only, as for webhooks) — skipped;
- *unchanged*: every kept field equal — skipped, nothing written (not even `updated_at`);
- *descriptive*: only titles, handles, images, SKUs, prices, status or `updated_at` differ —
  written with one `bulk_update` per table for the batch (`products_refresh`), under the row
  locks and compared again there, so a webhook that wrote a newer version meanwhile wins;
- *structural*: anything restock detection or the variant list depends on (stock facts,
  tracking, policy, inventory items, publication, added / removed / moved variants, a removed
  product) — `product_apply`, one product at a time, exactly as before.

Levels are compared the same way (`levels_changed`): only those that differ from the mirror go
to `inventory_levels_apply`, so unchanged stock locks nothing. `products_vanished_remove` marks
removed the mirrored products a complete sync did not see (deleted in Shopify while no webhook
told us).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from django.db import transaction
from django.utils import timezone

from notifyme.catalog.mirror import older, product_stale
from notifyme.catalog.models import InventoryLevel, Location, Product, Variant
from notifyme.catalog.snapshots import LevelSnapshot, ProductSnapshot, VariantSnapshot
from notifyme.shops.models import Shop

REMOVE_CHUNK = 1000


class Kind(Enum):
    STALE = "stale"
    UNCHANGED = "unchanged"
    DESCRIPTIVE = "descriptive"
    STRUCTURAL = "structural"


@dataclass
class Sorted:
    """The batch's mirrored products by what applying them needs."""

    stale: int = 0
    unchanged: int = 0
    descriptive: list[ProductSnapshot] = field(default_factory=list)
    structural: list[ProductSnapshot] = field(default_factory=list)


@dataclass
class _Mirrored:
    product: Product
    variants: dict[int, Variant]  # by Shopify id, removed ones included
    with_levels: set[int]  # pks of its variants the mirror holds levels for


def _product_fields(snap: ProductSnapshot) -> dict[str, Any]:
    return {"title": snap.title, "handle": snap.handle, "image_url": snap.image_url,
            "shopify_updated_at": snap.updated_at, "status": snap.status}


def _variant_fields(snap: VariantSnapshot) -> dict[str, Any]:
    return {"title": snap.title, "sku": snap.sku, "price": snap.price,
            "image_url": snap.image_url, "shopify_updated_at": snap.updated_at}


def _differs(row: Product | Variant, fields: dict[str, Any]) -> bool:
    return any(getattr(row, name) != value for name, value in fields.items())


def _load(shop: Shop, product_ids: Sequence[int], *, lock: bool = False
          ) -> dict[int, _Mirrored]:
    """The mirrored products, their variants and which variants have levels (three queries).
    `lock`: the product rows, then the variant rows, are locked (in one order: products by pk,
    variants by inventory item as `inventory_levels_apply` locks them)."""
    products = Product.objects.filter(shop=shop, shopify_id__in=list(product_ids))
    variants = Variant.objects.filter(shop=shop, product__shopify_id__in=list(product_ids))
    if lock:
        products = products.select_for_update(of=("self",)).order_by("pk")
        variants = variants.select_for_update(of=("self",)).order_by("inventory_item_id", "pk")
    found = {p.pk: _Mirrored(p, {}, set()) for p in products}
    by_pk: dict[int, _Mirrored] = {}
    for v in variants:
        mirrored = found[v.product_id]
        mirrored.variants[v.shopify_id] = v
        by_pk[v.pk] = mirrored
    for pk in (InventoryLevel.objects.filter(variant_id__in=list(by_pk))
               .values_list("variant_id", flat=True).distinct()):
        by_pk[pk].with_levels.add(pk)
    return {m.product.shopify_id: m for m in found.values()}


def _kind(mirrored: _Mirrored, snap: ProductSnapshot) -> Kind:
    """What applying `snap` over the mirror takes (the comparison `product_apply` would make)."""
    product = mirrored.product
    if product.removed_at is not None:
        return Kind.STALE if product_stale(product, snap.updated_at) else Kind.STRUCTURAL
    if product_stale(product, snap.updated_at):
        return Kind.STALE
    live = {sid for sid, v in mirrored.variants.items() if v.removed_at is None}
    ids = [v.shopify_id for v in snap.variants]
    if (snap.published_online != product.published_online or len(set(ids)) < len(ids)
            or (set(ids) != live if snap.complete_variants else not set(ids) <= live)):
        return Kind.STRUCTURAL
    descriptive = _differs(product, _product_fields(snap))
    for vs in snap.variants:
        row = mirrored.variants[vs.shopify_id]
        if older(vs.updated_at, row.shopify_updated_at):
            continue  # `product_apply` skips an older variant too
        stock_facts = (vs.inventory_tracked, vs.inventory_policy) != (row.inventory_tracked,
                                                                      row.inventory_policy)
        moved_item = (vs.inventory_item_id is not None
                      and vs.inventory_item_id != row.inventory_item_id)
        # Without levels the snapshot's quantity is the stock (with them, the levels are).
        quantity = (row.pk not in mirrored.with_levels and vs.quantity is not None
                    and vs.quantity != row.available_quantity)
        if stock_facts or moved_item or quantity:
            return Kind.STRUCTURAL
        descriptive = descriptive or _differs(row, _variant_fields(vs))
    return Kind.DESCRIPTIVE if descriptive else Kind.UNCHANGED


def _sort(mirror: dict[int, _Mirrored], products: Sequence[ProductSnapshot]) -> Sorted:
    result = Sorted()
    counts: dict[int, int] = {}
    for snap in products:
        counts[snap.shopify_id] = counts.get(snap.shopify_id, 0) + 1
    for snap in products:
        mirrored = mirror.get(snap.shopify_id)
        # Not mirrored (or twice in the batch): the one-at-a-time path decides.
        kind = (Kind.STRUCTURAL if mirrored is None or counts[snap.shopify_id] > 1
                else _kind(mirrored, snap))
        if kind is Kind.STALE:
            result.stale += 1
        elif kind is Kind.UNCHANGED:
            result.unchanged += 1
        else:
            (result.descriptive if kind is Kind.DESCRIPTIVE else result.structural).append(snap)
    return result


def products_sort(*, shop: Shop, products: Sequence[ProductSnapshot]) -> Sorted:
    """Sort snapshots of products the mirror holds (three reads, no lock, nothing written)."""
    return _sort(_load(shop, [p.shopify_id for p in products]), products)


def products_refresh(*, shop: Shop, products: Sequence[ProductSnapshot]) -> Sorted:
    """Write descriptive changes in bulk: the rows are locked and compared again (a webhook may
    have written meanwhile); what is still descriptive is written with one `bulk_update` per
    table, and the result says what is not (its `structural` is the caller's to apply)."""
    with transaction.atomic():
        mirror = _load(shop, [p.shopify_id for p in products], lock=True)
        result = _sort(mirror, products)
        now = timezone.now()
        product_rows: list[Product] = []
        variant_rows: list[Variant] = []
        for snap in result.descriptive:
            mirrored = mirror[snap.shopify_id]
            for name, value in _product_fields(snap).items():
                setattr(mirrored.product, name, value)
            mirrored.product.updated_at = now  # bulk_update does not apply auto_now
            product_rows.append(mirrored.product)
            for vs in snap.variants:
                row = mirrored.variants[vs.shopify_id]
                if older(vs.updated_at, row.shopify_updated_at):
                    continue
                fields = _variant_fields(vs)
                if _differs(row, fields):
                    for name, value in fields.items():
                        setattr(row, name, value)
                    row.updated_at = now
                    variant_rows.append(row)
        Product.objects.bulk_update(product_rows, [*_product_fields(ProductSnapshot(0, "", None)),
                                                   "updated_at"], batch_size=500)
        Variant.objects.bulk_update(variant_rows, [*_variant_fields(VariantSnapshot(0)),
                                                   "updated_at"], batch_size=500)
    return result


def levels_changed(*, shop: Shop, levels: Sequence[LevelSnapshot]) -> list[LevelSnapshot]:
    """The levels `inventory_levels_apply` would write: of a mirrored inventory item, and new
    or different (not older) at their location (three reads)."""
    items = {lv.inventory_item_id for lv in levels}
    variants = dict(Variant.objects.filter(shop=shop, inventory_item_id__in=list(items),
                                           removed_at__isnull=True)
                    .values_list("inventory_item_id", "pk"))
    locations = dict(Location.objects.filter(shop=shop, shopify_id__in={
        lv.location_id for lv in levels}).values_list("shopify_id", "pk"))
    rows = {(v, loc): (available, at) for v, loc, available, at in InventoryLevel.objects.filter(
        variant_id__in=list(variants.values())).values_list(
        "variant_id", "location_id", "available", "shopify_updated_at")}
    changed = []
    for lv in levels:
        if lv.inventory_item_id not in variants:
            continue  # `inventory_levels_apply` skips it too
        held = rows.get((variants[lv.inventory_item_id], locations.get(lv.location_id, -1)))
        if held is None or _level_differs(held, lv):
            changed.append(lv)
    return changed


def _level_differs(held: tuple[int, datetime | None], level: LevelSnapshot) -> bool:
    available, mirrored = held
    if older(level.updated_at, mirrored):
        return False
    return (available, mirrored) != (level.available, level.updated_at or mirrored)


def products_vanished_remove(*, shop: Shop, seen: set[int], before: datetime) -> int:
    """Mark removed (with their variants) the shop's mirrored products a complete read of the
    catalog did not contain: deleted in Shopify without a webhook reaching us. Only rows last
    written before `before` (the sync's start), so a product a webhook mirrored during the
    sync — created after the read — stays. Returns how many were removed."""
    mirrored = Product.objects.filter(shop=shop, removed_at__isnull=True,
                                      updated_at__lt=before).values_list("pk", "shopify_id")
    gone = [pk for pk, shopify_id in mirrored if shopify_id not in seen]
    removed = 0
    for start in range(0, len(gone), REMOVE_CHUNK):
        at = timezone.now()
        with transaction.atomic():
            # Locked and checked again: a webhook may have written one since the read above.
            chunk = list(Product.objects.select_for_update(of=("self",)).filter(
                pk__in=gone[start:start + REMOVE_CHUNK], removed_at__isnull=True,
                updated_at__lt=before).order_by("pk").values_list("pk", flat=True))
            removed += Product.objects.filter(pk__in=chunk).update(removed_at=at, updated_at=at)
            Variant.objects.filter(product_id__in=chunk, removed_at__isnull=True).update(
                removed_at=at, updated_at=at)
    return removed
