"""Reads of the catalog mirror that other layers (webhook handlers, the merchant API) need."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from notifyme.catalog.models import CatalogSettings, Location, Variant
from notifyme.shops.models import Shop


def variant_for_inventory_item(*, shop: Shop, inventory_item_id: int) -> Variant | None:
    """The shop's variant whose Shopify inventory item this is (None: not in the mirror)."""
    return (Variant.objects.select_related("product")
            .filter(shop=shop, inventory_item_id=inventory_item_id).first())


def alert_locations_get(*, shop: Shop) -> list[int] | None:
    """The Shopify ids of the locations the merchant chose to count; None = the default
    (active locations that fulfil online orders)."""
    chosen = (CatalogSettings.objects.filter(shop=shop)
              .values_list("alert_location_ids", flat=True).first())
    return list(chosen) if chosen is not None else None


def counted_locations(*, shop: Shop, prefix: str = "") -> Q:
    """A filter for the counted locations: on `Location` (prefix ""), or through a relation
    (e.g. prefix "location__" on InventoryLevel, "levels__location__" on Variant)."""
    chosen = alert_locations_get(shop=shop)
    if chosen is None:
        return Q(**{f"{prefix}is_active": True, f"{prefix}fulfills_online_orders": True})
    return Q(**{f"{prefix}shopify_id__in": chosen})


def locations_list(*, shop: Shop) -> dict[str, Any]:
    """The shop's locations and whether each counts for alerts (the merchant API's GET).
    Ids are strings: they exceed 2**53, which a JavaScript number cannot hold."""
    chosen = alert_locations_get(shop=shop)
    counted = set(Location.objects.filter(counted_locations(shop=shop), shop=shop)
                  .values_list("pk", flat=True))
    rows = Location.objects.filter(shop=shop).order_by("name", "shopify_id")
    return {
        "mode": "default" if chosen is None else "chosen",
        "location_ids": None if chosen is None else [str(i) for i in chosen],
        "locations": [
            {"id": str(loc.shopify_id), "name": str(loc), "is_active": loc.is_active,
             "fulfills_online_orders": loc.fulfills_online_orders,
             "counts_for_alerts": loc.pk in counted}
            for loc in rows
        ],
    }


def inventory_items_in_mirror(*, shop: Shop, inventory_item_ids: Iterable[int]) -> set[int]:
    """Which of these inventory items the shop's mirror holds a variant for (one query)."""
    found = (Variant.objects.filter(shop=shop, inventory_item_id__in=set(inventory_item_ids))
             .values_list("inventory_item_id", flat=True))
    return {item for item in found if item is not None}
