"""Per-location stock: Shopify's locations and inventory levels → the variant's sellable quantity.

`inventory_levels/update` tells one inventory item's `available` at one location. The mirror
keeps every level (`InventoryLevel`, newer-only per (variant, location) by Shopify's
`updated_at`; an equal timestamp applies again and changes nothing) and computes the variant's
sellable quantity as the sum of `available` over the *counted* locations:

- by default, locations that are active and fulfil online orders (a location first seen in a
  level, before `locations_apply` described it, counts: it is created active and fulfilling,
  so no stock is ignored just because the locations list has not arrived yet);
- or exactly the locations the merchant chose (`shop_alert_locations_set`); locations Shopify
  adds later then do not count until the merchant adds them.

The quantity is written through `variant_update_stock`, so restock detection sees the change.
Each variant is locked before its levels are written and summed, so two levels of one variant
arriving at once are summed one after the other (no lost update); only the variant row is
locked (`of=("self",)`), never its shop or product, so level writes never wait on a product
write's lock in the opposite order. A variant the mirror has no level for keeps the quantity its
product snapshot gave it.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifyme.catalog.models import CatalogSettings, InventoryLevel, Location, Variant
from notifyme.catalog.selectors import counted_locations
from notifyme.catalog.snapshots import LevelSnapshot, LocationSnapshot
from notifyme.catalog.stock import StockUpdate, variant_update_stock
from notifyme.shops.models import Shop

#: Variants locked and summed together by `shop_resync`.
RESYNC_CHUNK = 500


class AlertLocationsError(ValueError):
    """The merchant's location choice is unusable; `field` names the input to blame."""

    field = "location_ids"


def sellable_quantity(*, variant: Variant) -> int | None:
    """The sum of `available` over the counted locations; None when the mirror holds no level
    for the variant (its quantity then comes from product snapshots)."""
    counted = counted_locations(shop=variant.shop, prefix="location__")
    found = InventoryLevel.objects.filter(variant=variant).aggregate(
        levels=Count("id"), total=Sum("available", filter=counted))
    if not found["levels"]:
        return None
    return int(found["total"] or 0)


def _locations(shop: Shop, shopify_ids: set[int]) -> dict[int, Location]:
    """The shop's locations by Shopify id, those first seen here created (one query when all
    are known, which is every level after the first of a location)."""
    found = {loc.shopify_id: loc for loc in
             Location.objects.filter(shop=shop, shopify_id__in=shopify_ids)}
    for shopify_id in shopify_ids - found.keys():
        found[shopify_id], _ = Location.objects.get_or_create(shop=shop, shopify_id=shopify_id)
    return found


def _level_newer(row: InventoryLevel, level: LevelSnapshot) -> bool:
    """Apply `level` to the mirrored `row` unless it is older; True if anything changed."""
    mirrored = row.shopify_updated_at
    if level.updated_at is not None and mirrored is not None and level.updated_at < mirrored:
        return False
    if (row.available, mirrored) == (level.available, level.updated_at or mirrored):
        return False
    row.available, row.shopify_updated_at = level.available, level.updated_at or mirrored
    return True


def _levels_store(shop: Shop, variants: dict[int, Variant],
                  by_item: dict[int, list[LevelSnapshot]]) -> set[int]:
    """Write the levels of the locked `variants` (newer-only each; a few statements for the
    whole batch, not a few per level); returns the ids of the variants whose levels changed."""
    locations = _locations(shop, {level.location_id for item in variants
                                  for level in by_item[item]})
    rows = {(row.variant_id, row.location_id): row for row in InventoryLevel.objects.filter(
        variant__in=list(variants.values()), location__in=list(locations.values()))}
    created: dict[tuple[int, int], InventoryLevel] = {}
    updated: dict[tuple[int, int], InventoryLevel] = {}
    changed: set[int] = set()
    for item, variant in variants.items():
        for level in by_item[item]:
            key = (variant.pk, locations[level.location_id].pk)
            row = rows.get(key)
            if row is None:
                rows[key] = created[key] = InventoryLevel(
                    shop=shop, variant=variant, location=locations[level.location_id],
                    available=level.available, shopify_updated_at=level.updated_at)
                changed.add(variant.pk)
            elif _level_newer(row, level):
                if key not in created:
                    updated[key] = row
                changed.add(variant.pk)
    InventoryLevel.objects.bulk_create(created.values())
    now = timezone.now()
    for row in updated.values():
        row.updated_at = now  # bulk_update does not apply auto_now
    InventoryLevel.objects.bulk_update(updated.values(),
                                       ["available", "shopify_updated_at", "updated_at"])
    return changed


def _sellable_quantities(shop: Shop, variant_ids: set[int]) -> dict[int, int]:
    """`sellable_quantity` of many variants in one GROUP BY (each has a level: just written)."""
    counted = counted_locations(shop=shop, prefix="location__")
    return {row["variant_id"]: int(row["total"] or 0) for row in
            InventoryLevel.objects.filter(variant_id__in=variant_ids).values("variant_id")
            .annotate(total=Sum("available", filter=counted))}


def inventory_levels_apply(*, shop: Shop, levels: Sequence[LevelSnapshot]) -> list[StockUpdate]:
    """Store the levels (newer-only each) and write the sellable quantity of every variant
    whose counted total changed; returns those stock writes (with their restock reactions).

    One transaction for the whole batch (a burst's run of level webhooks is one call:
    webhooks/batching.py): the variants are locked first, in one global order (their
    inventory item id), so two jobs applying overlapping batches of one shop wait for each
    other instead of deadlocking, and a variant's levels are written and summed under its lock.
    Levels of inventory items not in the mirror, or of removed variants, are skipped (the
    caller checks `selectors.variant_for_inventory_item` first when it must tell)."""
    by_item: dict[int, list[LevelSnapshot]] = {}
    for level in levels:
        by_item.setdefault(level.inventory_item_id, []).append(level)
    if not by_item:
        return []
    with transaction.atomic():
        variants = {v.inventory_item_id or 0: v for v in (
            Variant.objects.select_for_update(of=("self",)).select_related("shop")
            .filter(shop=shop, inventory_item_id__in=list(by_item), removed_at__isnull=True)
            .order_by("inventory_item_id"))}
        if not variants:
            return []
        changed = _levels_store(shop, variants, by_item)
        quantities = _sellable_quantities(shop, changed)
        # A changed variant has a level (just written), so it has a quantity.
        return [variant_update_stock(variant=variant, quantity=quantities[variant.pk])
                for variant in variants.values()
                if variant.pk in changed and quantities[variant.pk] != variant.available_quantity]


def shop_resync(*, shop: Shop) -> list[StockUpdate]:
    """Recompute every variant whose counted total differs from its quantity (after the
    counted locations changed): one aggregate finds them (none: nothing is locked or
    written), then per chunk the variants are locked in `inventory_levels_apply`'s order and
    summed in one GROUP BY (`_sellable_quantities`); each differing one is written through
    `variant_update_stock` (restock detection)."""
    counted = counted_locations(shop=shop, prefix="levels__location__")
    differing = list(Variant.objects.filter(shop=shop, removed_at__isnull=True)
                     .annotate(levels_n=Count("levels"),
                               total=Coalesce(Sum("levels__available", filter=counted), 0))
                     .filter(levels_n__gt=0).exclude(available_quantity=F("total"))
                     .values_list("pk", flat=True))
    updates: list[StockUpdate] = []
    for start in range(0, len(differing), RESYNC_CHUNK):
        with transaction.atomic():
            variants = list(Variant.objects.select_for_update(of=("self",))
                            .select_related("shop")
                            .filter(pk__in=differing[start:start + RESYNC_CHUNK],
                                    removed_at__isnull=True)
                            .order_by("inventory_item_id", "pk"))
            quantities = _sellable_quantities(shop, {v.pk for v in variants})
            updates += [variant_update_stock(variant=v, quantity=quantities[v.pk])
                        for v in variants
                        if v.pk in quantities and quantities[v.pk] != v.available_quantity]
    return updates


def locations_apply(*, shop: Shop, locations: Sequence[LocationSnapshot],
                    complete: bool = True) -> list[StockUpdate]:
    """Mirror the shop's locations; with `complete` (the full list, as the Admin API's
    `locations` gives it) a known location missing from it is marked inactive. Then every
    variant whose counted total changed gets its new quantity (restock detection runs)."""
    with transaction.atomic():
        held = {loc.shopify_id: loc for loc in Location.objects.filter(shop=shop)}
        for loc in locations:
            values = {"name": loc.name, "is_active": loc.is_active,
                      "fulfills_online_orders": loc.fulfills_online_orders}
            row = held.get(loc.shopify_id)
            # A re-sync's list is almost always the mirror's: write only what differs.
            if row is None or any(getattr(row, k) != v for k, v in values.items()):
                Location.objects.update_or_create(shop=shop, shopify_id=loc.shopify_id,
                                                  defaults=values)
        listed = {loc.shopify_id for loc in locations}
        gone = [row.pk for sid, row in held.items() if row.is_active and sid not in listed]
        if complete and gone:
            Location.objects.filter(pk__in=gone, is_active=True).update(is_active=False)
    return shop_resync(shop=shop)


def shop_alert_locations_set(*, shop: Shop, location_ids: list[int] | None
                             ) -> list[StockUpdate]:
    """The merchant's choice: count exactly these (Shopify ids of known locations of the
    shop), or None for the default. Raises `AlertLocationsError` for an empty list or an id
    that is not one of the shop's locations (nothing is written). Then every variant whose
    counted total changed gets its new quantity, which may start restocks."""
    if location_ids is not None:
        chosen = sorted(set(location_ids))
        if not chosen:
            raise AlertLocationsError(
                "Choose at least one location, or null for the default locations.")
        known = set(Location.objects.filter(shop=shop, shopify_id__in=chosen)
                    .values_list("shopify_id", flat=True))
        unknown = [str(i) for i in chosen if i not in known]
        if unknown:
            raise AlertLocationsError(f"Not a location of this shop: {', '.join(unknown)}.")
        location_ids = chosen
    with transaction.atomic():
        settings, _ = CatalogSettings.objects.select_for_update().get_or_create(shop=shop)
        settings.alert_location_ids = location_ids
        settings.save(update_fields=["alert_location_ids", "updated_at"])
    return shop_resync(shop=shop)


@transaction.atomic
def variant_link_inventory_item(*, shop: Shop, variant_shopify_id: int,
                                inventory_item_id: int) -> Variant | None:
    """Record that the shop's variant `variant_shopify_id` has this inventory item (what an
    Admin API lookup found for an item the mirror did not know); None if the variant is not
    in the mirror either. Another variant holding the item id (a stale row) gives it up."""
    variant = (Variant.objects.select_for_update()
               .filter(shop=shop, shopify_id=variant_shopify_id).first())
    if variant is None:
        return None
    if variant.inventory_item_id != inventory_item_id:
        Variant.objects.filter(shop=shop, inventory_item_id=inventory_item_id).exclude(
            pk=variant.pk).update(inventory_item_id=None)
        variant.inventory_item_id = inventory_item_id
        variant.save(update_fields=["inventory_item_id", "updated_at"])
    return variant


def inventory_item_free(*, shop: Shop, inventory_item_id: int, keep_shopify_id: int) -> None:
    """Take the item id from any other variant of the shop (before a snapshot gives it to
    `keep_shopify_id`), so the per-shop uniqueness never fails on a stale row."""
    Variant.objects.filter(Q(shop=shop, inventory_item_id=inventory_item_id)
                           & ~Q(shopify_id=keep_shopify_id)).update(inventory_item_id=None)
