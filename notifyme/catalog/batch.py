"""The catalog sync's write path: `catalog_apply_batch`, many products and levels at once.

`product_apply` and `inventory_levels_apply` write one product, one variant, one level at a
time (a few queries and a lock each): right for a webhook, ~30 ms per variant for a sync of
50,000. Most of what an initial sync writes is *new*: products, variants and levels the mirror
has never held. Those are inserted in bulk (one `bulk_create` per table for the batch). That is
safe for restock detection: nothing waits on a variant the mirror does not have (a
subscription points at a mirrored `Variant` row), so a variant created with its real quantity
needs no `hooks.stock_changed` — which is also what `product_apply` does when it creates one.

A product already in the mirror (a re-sync) is compared with it first (`resync`): an older or
unchanged one is skipped, one whose titles, prices, images... changed is written in bulk, and
only a change restock detection or the variant list depends on takes the per-product services.
Everything else — a tombstone of a delete, a variant id or inventory item id the mirror already
holds (moved, stale), a duplicate inside the batch — goes through the per-product services
unchanged, so newer-only by `updated_at`, `removed` handling of complete snapshots and stock
changes through `variant_update_stock` (restock detection) stay exactly as they are. Levels
equal to the mirror's are dropped before `inventory_levels_apply`. A concurrent webhook that
inserts one of the new rows first makes the bulk insert fail; the batch then falls back to the
per-product path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from notifyme.catalog.inventory import inventory_levels_apply
from notifyme.catalog.mirror import product_apply
from notifyme.catalog.models import InventoryLevel, Location, Product, Variant
from notifyme.catalog.resync import levels_changed, products_refresh, products_sort
from notifyme.catalog.selectors import counted_locations
from notifyme.catalog.snapshots import LevelSnapshot, ProductSnapshot
from notifyme.shops.models import Shop


@dataclass(frozen=True)
class BatchApplied:
    """What `catalog_apply_batch` did: rows inserted in bulk, and what took the per-product
    path (`stock_writes`: stock changes that went through restock detection)."""

    created_products: int = 0
    created_variants: int = 0
    created_levels: int = 0
    per_product: int = 0
    stock_writes: int = 0
    #: Mirrored products skipped as unchanged or older, and those refreshed in bulk.
    unchanged: int = 0
    stale: int = 0
    refreshed: int = 0


def _known(shop: Shop, products: Sequence[ProductSnapshot]) -> tuple[set[int], set[int], set[int]]:
    """The batch's product ids, variant ids and inventory item ids the mirror already holds
    (one query each)."""
    product_ids = [p.shopify_id for p in products]
    variant_ids = [v.shopify_id for p in products for v in p.variants]
    item_ids = [v.inventory_item_id for p in products for v in p.variants
                if v.inventory_item_id is not None]
    return (set(Product.objects.filter(shop=shop, shopify_id__in=product_ids)
                .values_list("shopify_id", flat=True)),
            set(Variant.objects.filter(shop=shop, shopify_id__in=variant_ids)
                .values_list("shopify_id", flat=True)),
            {i for i in Variant.objects.filter(shop=shop, inventory_item_id__in=item_ids)
             .values_list("inventory_item_id", flat=True) if i is not None})


def _split(shop: Shop, products: Sequence[ProductSnapshot]
           ) -> tuple[list[ProductSnapshot], list[ProductSnapshot]]:
    """(new: nothing of it in the mirror nor twice in the batch, the rest)."""
    products_known, variants_known, items_known = _known(shop, products)
    seen_p: set[int] = set()
    seen_v: set[int] = set()
    seen_i: set[int] = set()
    new: list[ProductSnapshot] = []
    rest: list[ProductSnapshot] = []
    for snap in products:
        v_ids = [v.shopify_id for v in snap.variants]
        i_ids = [v.inventory_item_id for v in snap.variants if v.inventory_item_id is not None]
        clash = (snap.shopify_id in products_known or snap.shopify_id in seen_p
                 or len(set(v_ids)) < len(v_ids) or len(set(i_ids)) < len(i_ids)
                 or any(i in variants_known or i in seen_v for i in v_ids)
                 or any(i in items_known or i in seen_i for i in i_ids))
        seen_p.add(snap.shopify_id)
        seen_v.update(v_ids)
        seen_i.update(i_ids)
        (rest if clash else new).append(snap)
    return new, rest


def _locations(shop: Shop, levels: Sequence[LevelSnapshot]) -> tuple[dict[int, Location], set[int]]:
    """The shop's locations by Shopify id (one first seen here is created active and
    fulfilling, as `inventory_levels_apply` does), and the pks of the counted ones."""
    wanted = {lv.location_id for lv in levels}
    have = {loc.shopify_id for loc in Location.objects.filter(shop=shop, shopify_id__in=wanted)}
    Location.objects.bulk_create([Location(shop=shop, shopify_id=i) for i in wanted - have],
                                 ignore_conflicts=True)
    rows = {loc.shopify_id: loc
            for loc in Location.objects.filter(shop=shop, shopify_id__in=wanted)}
    counted = set(Location.objects.filter(counted_locations(shop=shop), shop=shop,
                                          shopify_id__in=wanted).values_list("pk", flat=True))
    return rows, counted


def _newest(levels: Sequence[LevelSnapshot]) -> dict[tuple[int, int], LevelSnapshot]:
    """One level per (item, location): a later one replaces an earlier unless it is older
    (what applying them one after the other leaves)."""
    kept: dict[tuple[int, int], LevelSnapshot] = {}
    for lv in levels:
        key = (lv.inventory_item_id, lv.location_id)
        old = kept.get(key)
        if (old is None or lv.updated_at is None or old.updated_at is None
                or lv.updated_at >= old.updated_at):
            at = lv.updated_at if lv.updated_at is not None or old is None else old.updated_at
            kept[key] = LevelSnapshot(lv.inventory_item_id, lv.location_id, lv.available, at)
    return kept


def _insert(shop: Shop, new: list[ProductSnapshot], levels: Sequence[LevelSnapshot]
            ) -> BatchApplied:
    """Bulk-insert new products, their variants (at their sellable quantity) and levels."""
    items = {v.inventory_item_id for p in new for v in p.variants if v.inventory_item_id}
    mine = _newest([lv for lv in levels if lv.inventory_item_id in items])
    locations, counted = _locations(shop, list(mine.values()))
    by_item: dict[int, list[LevelSnapshot]] = {}
    for lv in mine.values():
        by_item.setdefault(lv.inventory_item_id, []).append(lv)
    rows = Product.objects.bulk_create([
        Product(shop=shop, shopify_id=p.shopify_id, title=p.title, handle=p.handle,
                image_url=p.image_url, shopify_updated_at=p.updated_at, status=p.status,
                published_online=p.published_online) for p in new])
    variants: list[Variant] = []
    for product, snap in zip(rows, new, strict=True):
        for v in snap.variants:
            own = by_item.get(v.inventory_item_id or -1)
            quantity = (sum(lv.available for lv in own
                            if locations[lv.location_id].pk in counted)
                        if own else (v.quantity or 0))
            variants.append(Variant(
                shop=shop, product=product, shopify_id=v.shopify_id, title=v.title, sku=v.sku,
                price=v.price, image_url=v.image_url, shopify_updated_at=v.updated_at,
                inventory_item_id=v.inventory_item_id, available_quantity=quantity,
                inventory_tracked=v.inventory_tracked, inventory_policy=v.inventory_policy))
    Variant.objects.bulk_create(variants, batch_size=1000)
    by_item_variant = {v.inventory_item_id: v for v in variants if v.inventory_item_id}
    level_rows = [InventoryLevel(shop=shop, variant=by_item_variant[lv.inventory_item_id],
                                 location=locations[lv.location_id], available=lv.available,
                                 shopify_updated_at=lv.updated_at) for lv in mine.values()]
    InventoryLevel.objects.bulk_create(level_rows, batch_size=1000)
    return BatchApplied(created_products=len(rows), created_variants=len(variants),
                        created_levels=len(level_rows))


def _per_product(shop: Shop, products: Sequence[ProductSnapshot],
                 levels: Sequence[LevelSnapshot]) -> BatchApplied:
    """Mirrored products: skipped when unchanged or older, refreshed in bulk when only
    descriptive fields changed, else the webhook path one at a time; then the levels that
    differ from the mirror (newer-only each)."""
    sorted_ = products_sort(shop=shop, products=products)
    refreshed = (products_refresh(shop=shop, products=sorted_.descriptive)
                 if sorted_.descriptive else None)
    one_by_one = [*sorted_.structural, *(refreshed.structural if refreshed else ())]
    writes = 0
    for snap in one_by_one:
        writes += len(product_apply(shop=shop, snapshot=snap).stock)
    changed = levels_changed(shop=shop, levels=levels) if levels else []
    if changed:
        writes += len(inventory_levels_apply(shop=shop, levels=changed))
    return BatchApplied(
        per_product=len(one_by_one), stock_writes=writes,
        unchanged=sorted_.unchanged + (refreshed.unchanged if refreshed else 0),
        stale=sorted_.stale + (refreshed.stale if refreshed else 0),
        refreshed=len(refreshed.descriptive) if refreshed else 0)


def catalog_apply_batch(*, shop: Shop, products: Sequence[ProductSnapshot],
                        levels: Sequence[LevelSnapshot]) -> BatchApplied:
    """Apply product snapshots and their per-location levels (the catalog sync's batch, ~250
    products) with the same result as `product_apply` of each then `inventory_levels_apply`.

    New products (nothing of them in the mirror) are inserted in bulk in one transaction;
    the others, and the levels of their variants, take the per-product services (newer-only,
    restock detection). Levels of items that are in neither are skipped, as
    `inventory_levels_apply` skips them.
    """
    new, rest = _split(shop, products)
    new_items = {v.inventory_item_id for p in new for v in p.variants if v.inventory_item_id}
    other_levels = [lv for lv in levels if lv.inventory_item_id not in new_items]
    inserted = BatchApplied()
    if new:
        try:
            with transaction.atomic():
                inserted = _insert(shop, new, levels)
        except IntegrityError:  # a webhook mirrored one of them meanwhile: one at a time
            rest, other_levels = list(products), list(levels)
    applied = _per_product(shop, rest, other_levels) if rest or other_levels else BatchApplied()
    return BatchApplied(
        created_products=inserted.created_products, created_variants=inserted.created_variants,
        created_levels=inserted.created_levels, per_product=applied.per_product,
        stock_writes=applied.stock_writes, unchanged=applied.unchanged, stale=applied.stale,
        refreshed=applied.refreshed)
