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

from notifyme.catalog.models import CatalogSettings, InventoryLevel, Location, Variant
from notifyme.catalog.selectors import counted_locations
from notifyme.catalog.snapshots import LevelSnapshot, LocationSnapshot
from notifyme.catalog.stock import StockUpdate, variant_update_stock
from notifyme.shops.models import Shop


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


def _resync(variant: Variant) -> list[StockUpdate]:
    """Write the variant's sellable quantity if it differs (the caller holds the row lock)."""
    quantity = sellable_quantity(variant=variant)
    if quantity is None or quantity == variant.available_quantity:
        return []
    return [variant_update_stock(variant=variant, quantity=quantity)]


def _location(shop: Shop, shopify_id: int) -> Location:
    location, _ = Location.objects.get_or_create(shop=shop, shopify_id=shopify_id)
    return location


def _level_store(shop: Shop, variant: Variant, level: LevelSnapshot) -> bool:
    """Store one level unless it is older than the mirror's; True if anything changed."""
    location = _location(shop, level.location_id)
    row, created = InventoryLevel.objects.select_for_update().get_or_create(
        variant=variant, location=location,
        defaults={"shop": shop, "available": level.available,
                  "shopify_updated_at": level.updated_at})
    if created:
        return True
    mirrored = row.shopify_updated_at
    if level.updated_at is not None and mirrored is not None and level.updated_at < mirrored:
        return False
    if (row.available, mirrored) == (level.available, level.updated_at or mirrored):
        return False
    row.available, row.shopify_updated_at = level.available, level.updated_at or mirrored
    row.save(update_fields=["available", "shopify_updated_at", "updated_at"])
    return True


def inventory_levels_apply(*, shop: Shop, levels: Sequence[LevelSnapshot]) -> list[StockUpdate]:
    """Store the levels (newer-only each) and write the sellable quantity of every variant
    whose counted total changed; returns those stock writes (with their restock reactions).

    Levels of inventory items not in the mirror, or of removed variants, are skipped (the
    caller checks `selectors.variant_for_inventory_item` first when it must tell)."""
    by_item: dict[int, list[LevelSnapshot]] = {}
    for level in levels:
        by_item.setdefault(level.inventory_item_id, []).append(level)
    updates: list[StockUpdate] = []
    # Variants are locked in one global order (their inventory item id): two jobs applying
    # overlapping batches of one shop (webhooks/batching.py) then wait for each other instead
    # of deadlocking.
    for item_id in sorted(by_item):
        item_levels = by_item[item_id]
        with transaction.atomic():
            variant = (Variant.objects.select_for_update(of=("self",)).select_related("shop")
                       .filter(shop=shop, inventory_item_id=item_id, removed_at__isnull=True)
                       .first())
            if variant is None:
                continue
            changed = [_level_store(shop, variant, level) for level in item_levels]
            if any(changed):
                updates += _resync(variant)
    return updates


def shop_resync(*, shop: Shop) -> list[StockUpdate]:
    """Recompute every variant whose counted total differs from its quantity (after the
    counted locations changed); each is locked and recomputed on its own."""
    counted = counted_locations(shop=shop, prefix="levels__location__")
    differing = (Variant.objects.filter(shop=shop, removed_at__isnull=True)
                 .annotate(levels_n=Count("levels"),
                           total=Coalesce(Sum("levels__available", filter=counted), 0))
                 .filter(levels_n__gt=0).exclude(available_quantity=F("total"))
                 .values_list("pk", flat=True))
    updates: list[StockUpdate] = []
    for pk in list(differing):
        with transaction.atomic():
            variant = (Variant.objects.select_for_update(of=("self",))
                       .select_related("shop").get(pk=pk))
            updates += _resync(variant)
    return updates


def locations_apply(*, shop: Shop, locations: Sequence[LocationSnapshot],
                    complete: bool = True) -> list[StockUpdate]:
    """Mirror the shop's locations; with `complete` (the full list, as the Admin API's
    `locations` gives it) a known location missing from it is marked inactive. Then every
    variant whose counted total changed gets its new quantity (restock detection runs)."""
    with transaction.atomic():
        for loc in locations:
            Location.objects.update_or_create(
                shop=shop, shopify_id=loc.shopify_id,
                defaults={"name": loc.name, "is_active": loc.is_active,
                          "fulfills_online_orders": loc.fulfills_online_orders})
        if complete:
            Location.objects.filter(shop=shop, is_active=True).exclude(
                shopify_id__in=[loc.shopify_id for loc in locations]).update(is_active=False)
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
