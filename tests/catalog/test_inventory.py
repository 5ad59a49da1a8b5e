"""Per-location stock: levels newer-only per location, the sellable quantity from the counted
locations (default or the merchant's choice), and the restocks it starts."""

from __future__ import annotations

import pytest

from notifyme.catalog.models import InventoryLevel, Location, Variant
from notifyme.catalog.selectors import variant_for_inventory_item
from notifyme.catalog.services import (
    AlertLocationsError,
    inventory_levels_apply,
    locations_apply,
    product_apply,
    shop_alert_locations_set,
)
from notifyme.catalog.snapshots import LocationSnapshot
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop
from tests.catalog.conftest import (
    ITEM_ID,
    LOCATION_A,
    LOCATION_B,
    VARIANT_ID,
    level,
    product_snapshot,
    variant_snapshot,
)
from tests.restocks.conftest import add_subscribers

pytestmark = pytest.mark.django_db


@pytest.fixture
def variant(shop: Shop) -> Variant:
    product_apply(shop=shop, snapshot=product_snapshot(variants=(variant_snapshot(quantity=0),)))
    found = variant_for_inventory_item(shop=shop, inventory_item_id=ITEM_ID)
    assert found is not None and found.shopify_id == VARIANT_ID
    return found


def _quantity(variant: Variant) -> int:
    variant.refresh_from_db()
    return variant.available_quantity


def test_levels_are_summed_over_locations_and_newer_only_per_location(
        shop: Shop, variant: Variant) -> None:
    inventory_levels_apply(shop=shop, levels=[level(2, location=LOCATION_A, minutes=5),
                                              level(3, location=LOCATION_B, minutes=1)])
    assert _quantity(variant) == 5
    # An older level of A arriving late changes nothing; a newer level of B applies.
    assert inventory_levels_apply(shop=shop, levels=[level(9, location=LOCATION_A,
                                                           minutes=4)]) == []
    inventory_levels_apply(shop=shop, levels=[level(0, location=LOCATION_B, minutes=2)])
    assert _quantity(variant) == 2
    assert dict(InventoryLevel.objects.values_list("location__shopify_id", "available")) == {
        LOCATION_A: 2, LOCATION_B: 0}
    # The same level twice: no stock write.
    assert inventory_levels_apply(shop=shop, levels=[level(0, location=LOCATION_B,
                                                           minutes=2)]) == []


def test_a_level_rise_starts_the_restock_once(shop: Shop, variant: Variant) -> None:
    add_subscribers(shop, variant, 3)
    first = inventory_levels_apply(shop=shop, levels=[level(5, minutes=1)])
    assert [u.acted for u in first] == [True]
    again = inventory_levels_apply(shop=shop, levels=[level(5, minutes=1)])
    assert again == [] and Restock.objects.count() == 1


def test_unknown_inventory_items_are_skipped(shop: Shop, variant: Variant) -> None:
    assert inventory_levels_apply(shop=shop, levels=[level(5, item=ITEM_ID + 99)]) == []
    assert variant_for_inventory_item(shop=shop, inventory_item_id=ITEM_ID + 99) is None
    assert not InventoryLevel.objects.exists()


def test_the_location_selection_changes_the_sellable_quantity(
        shop: Shop, variant: Variant) -> None:
    locations_apply(shop=shop, locations=[
        LocationSnapshot(LOCATION_A, "Warehouse"),
        LocationSnapshot(LOCATION_B, "Pop-up", fulfills_online_orders=False)])
    add_subscribers(shop, variant, 2)
    inventory_levels_apply(shop=shop, levels=[level(0, location=LOCATION_A),
                                              level(4, location=LOCATION_B)])
    assert _quantity(variant) == 0  # the pop-up does not fulfil online orders
    assert not Restock.objects.exists()
    # The merchant counts the pop-up too: the stock it holds counts now, and starts the restock.
    updates = shop_alert_locations_set(shop=shop, location_ids=[LOCATION_A, LOCATION_B])
    assert [u.quantity for u in updates] == [4] and updates[0].acted
    shop_alert_locations_set(shop=shop, location_ids=[LOCATION_A])
    assert _quantity(variant) == 0
    shop_alert_locations_set(shop=shop, location_ids=None)  # back to the default
    assert _quantity(variant) == 0


def test_a_location_not_yet_known_counts_until_the_list_says_otherwise(
        shop: Shop, variant: Variant) -> None:
    inventory_levels_apply(shop=shop, levels=[level(3, location=LOCATION_B)])
    assert _quantity(variant) == 3
    assert Location.objects.get(shopify_id=LOCATION_B).counts_by_default
    # The full list does not contain it (deleted, or deactivated): it stops counting.
    locations_apply(shop=shop, locations=[LocationSnapshot(LOCATION_A, "Warehouse")])
    assert _quantity(variant) == 0
    assert not Location.objects.get(shopify_id=LOCATION_B).is_active


def test_a_product_update_keeps_the_quantity_the_levels_give(shop: Shop, variant: Variant
                                                             ) -> None:
    locations_apply(shop=shop, locations=[
        LocationSnapshot(LOCATION_A, "Warehouse"),
        LocationSnapshot(LOCATION_B, "Pop-up", fulfills_online_orders=False)])
    inventory_levels_apply(shop=shop, levels=[level(1, location=LOCATION_A),
                                              level(7, location=LOCATION_B)])
    # REST's inventory_quantity is every location's total (8): the counted levels say 1.
    product_apply(shop=shop, snapshot=product_snapshot(
        minutes=1, variants=(variant_snapshot(minutes=1, quantity=8),)))
    assert _quantity(variant) == 1


def test_a_bad_location_choice_is_refused_and_writes_nothing(shop: Shop, other_shop: Shop,
                                                             variant: Variant) -> None:
    locations_apply(shop=other_shop, locations=[LocationSnapshot(LOCATION_B, "Theirs")])
    locations_apply(shop=shop, locations=[LocationSnapshot(LOCATION_A, "Mine")])
    with pytest.raises(AlertLocationsError, match="Not a location of this shop"):
        shop_alert_locations_set(shop=shop, location_ids=[LOCATION_B])
    with pytest.raises(AlertLocationsError, match="at least one"):
        shop_alert_locations_set(shop=shop, location_ids=[])
    assert not hasattr(shop, "catalog_settings") or shop.catalog_settings.alert_location_ids is None


def test_two_shops_levels_are_isolated(shop: Shop, other_shop: Shop, variant: Variant) -> None:
    product_apply(shop=other_shop, snapshot=product_snapshot())
    theirs = variant_for_inventory_item(shop=other_shop, inventory_item_id=ITEM_ID)
    assert theirs is not None and theirs.pk != variant.pk
    inventory_levels_apply(shop=other_shop, levels=[level(6)])
    assert _quantity(theirs) == 6 and _quantity(variant) == 0
    shop_alert_locations_set(shop=other_shop, location_ids=[LOCATION_A])
    assert Location.objects.filter(shop=shop).count() == 0
