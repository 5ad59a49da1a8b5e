"""`catalog_apply_batch`, the catalog sync's write path: the same mirror as `product_apply` of
each snapshot then `inventory_levels_apply`, row by row; stock changes of variants already
mirrored still go through restock detection; stale snapshots change nothing; shops apart."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from notifyme.catalog.models import InventoryLevel, Location, Product, Variant
from notifyme.catalog.services import (
    catalog_apply_batch,
    inventory_levels_apply,
    product_apply,
)
from notifyme.catalog.snapshots import LevelSnapshot, ProductSnapshot
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop
from tests.catalog.conftest import (
    ITEM_ID,
    LOCATION_B,
    PRODUCT_ID,
    VARIANT_ID,
    level,
    product_snapshot,
    variant_snapshot,
)
from tests.restocks.conftest import add_subscribers

pytestmark = pytest.mark.django_db


def _per_product(shop: Shop, products: list[ProductSnapshot],
                 levels: list[LevelSnapshot]) -> None:
    for snapshot in products:
        product_apply(shop=shop, snapshot=snapshot)
    inventory_levels_apply(shop=shop, levels=levels)


def _removed(rows: Any) -> list[tuple[Any, ...]]:
    """The rows with `removed_at` (last) as removed or not (its value is the clock's)."""
    return sorted((*row[:-1], row[-1] is not None) for row in rows)


def _mirror(shop: Shop) -> dict[str, list[tuple[Any, ...]]]:
    """Every mirror row of the shop, without pks and timestamps, keyed by Shopify ids."""
    return {
        "products": _removed(Product.objects.filter(shop=shop).values_list(
            "shopify_id", "title", "handle", "image_url", "shopify_updated_at", "status",
            "published_online", "removed_at")),
        "variants": _removed(Variant.objects.filter(shop=shop).values_list(
            "shopify_id", "product__shopify_id", "title", "sku", "price", "image_url",
            "inventory_tracked", "inventory_policy", "available_quantity",
            "shopify_updated_at", "inventory_item_id", "removed_at")),
        "levels": sorted(InventoryLevel.objects.filter(shop=shop).values_list(
            "variant__shopify_id", "location__shopify_id", "available", "shopify_updated_at")),
        "locations": sorted(Location.objects.filter(shop=shop).values_list(
            "shopify_id", "name", "is_active", "fulfills_online_orders")),
    }


def _catalog(minutes: int = 0) -> tuple[list[ProductSnapshot], list[LevelSnapshot]]:
    """Three products: two variants with levels at two locations, one untracked variant of
    an unpublished product with no inventory item, one variant whose level comes twice."""
    shirt = product_snapshot(minutes=minutes, variants=(
        variant_snapshot(VARIANT_ID, item=ITEM_ID, minutes=minutes, quantity=3),
        variant_snapshot(VARIANT_ID + 1, item=ITEM_ID + 1, minutes=minutes, title="Small",
                         price=Decimal("45.50"), quantity=0)))
    hat = product_snapshot(shopify_id=PRODUCT_ID + 1, minutes=minutes, title="Hat",
                           handle="hat", published_online=False, status="draft",
                           variants=(variant_snapshot(VARIANT_ID + 2, item=None,
                                                      minutes=minutes, quantity=7,
                                                      inventory_tracked=False),))
    sock = product_snapshot(shopify_id=PRODUCT_ID + 2, minutes=minutes, title="Sock",
                            handle="sock", variants=(variant_snapshot(
                                VARIANT_ID + 3, item=ITEM_ID + 3, minutes=minutes,
                                inventory_policy="continue", quantity=1),))
    levels = [level(2, item=ITEM_ID, minutes=minutes),
              level(1, item=ITEM_ID, location=LOCATION_B, minutes=minutes),
              level(0, item=ITEM_ID + 1, minutes=minutes),
              level(4, item=ITEM_ID + 3, minutes=minutes),
              level(5, item=ITEM_ID + 3, minutes=minutes + 1)]
    return [shirt, hat, sock], levels


def test_a_new_catalog_gives_the_same_mirror_as_the_per_product_path(
        shop: Shop, other_shop: Shop) -> None:
    products, levels = _catalog()
    _per_product(shop, products, levels)
    applied = catalog_apply_batch(shop=other_shop, products=products, levels=levels)
    assert (applied.created_products, applied.created_variants, applied.created_levels,
            applied.per_product) == (3, 4, 4, 0)
    assert _mirror(other_shop) == _mirror(shop)
    assert Variant.objects.get(shop=other_shop, shopify_id=VARIANT_ID + 3).available_quantity == 5


def test_a_re_sync_with_changes_gives_the_same_mirror_as_the_per_product_path(
        shop: Shop, other_shop: Shop) -> None:
    first, first_levels = _catalog()
    for target in (shop, other_shop):
        _per_product(target, first, first_levels)
    products, levels = _catalog(minutes=5)
    shirt = products[0]
    products[0] = ProductSnapshot(**{**shirt.__dict__, "title": "Linen Shirt II",
                                     "variants": shirt.variants[:1]})  # Small is gone
    products.append(product_snapshot(shopify_id=PRODUCT_ID + 9, minutes=5, title="New",
                                     variants=(variant_snapshot(VARIANT_ID + 9,
                                                                item=ITEM_ID + 9),)))
    levels += [level(6, item=ITEM_ID + 9, minutes=5), level(3, item=ITEM_ID + 77, minutes=5)]
    _per_product(shop, products, levels)
    applied = catalog_apply_batch(shop=other_shop, products=products, levels=levels)
    # The shirt lost a variant (one at a time); hat and sock only got newer timestamps.
    assert (applied.created_products, applied.per_product, applied.refreshed) == (1, 1, 2)
    assert _mirror(other_shop) == _mirror(shop)
    small = Variant.objects.get(shop=other_shop, shopify_id=VARIANT_ID + 1)
    assert small.removed_at is not None


def test_an_existing_variant_rising_from_zero_in_a_re_sync_starts_a_restock(shop: Shop) -> None:
    products, levels = _catalog()
    catalog_apply_batch(shop=shop, products=products, levels=levels)
    small = Variant.objects.get(shop=shop, shopify_id=VARIANT_ID + 1)
    assert small.available_quantity == 0 and not Restock.objects.exists()
    add_subscribers(shop, small, 3)
    products, levels = _catalog(minutes=5)
    levels[2] = level(8, item=ITEM_ID + 1, minutes=5)
    applied = catalog_apply_batch(shop=shop, products=products, levels=levels)
    assert applied.stock_writes >= 1
    restock = Restock.objects.get()
    assert restock.variant_id == small.pk and restock.total == 3


def test_a_new_variant_created_in_stock_starts_nothing(shop: Shop) -> None:
    products, levels = _catalog()
    catalog_apply_batch(shop=shop, products=products, levels=levels)
    assert Variant.objects.filter(shop=shop, available_quantity__gt=0).count() == 3
    assert not Restock.objects.exists()


def test_stale_snapshots_in_a_batch_change_nothing(shop: Shop) -> None:
    products, levels = _catalog(minutes=10)
    catalog_apply_batch(shop=shop, products=products, levels=levels)
    before = _mirror(shop)
    stale, stale_levels = _catalog(minutes=1)
    stale = [ProductSnapshot(**{**p.__dict__, "title": "Old title"}) for p in stale]
    stale_levels = [LevelSnapshot(lv.inventory_item_id, lv.location_id, 99, lv.updated_at)
                    for lv in stale_levels]
    applied = catalog_apply_batch(shop=shop, products=stale, levels=stale_levels)
    assert applied.created_products == 0 and applied.stock_writes == 0
    assert _mirror(shop) == before


def test_two_shops_with_the_same_ids_stay_apart(shop: Shop, other_shop: Shop) -> None:
    products, levels = _catalog()
    catalog_apply_batch(shop=shop, products=products, levels=levels)
    mine = _mirror(shop)
    renamed = [ProductSnapshot(**{**p.__dict__, "title": f"Theirs {i}"})
               for i, p in enumerate(products)]
    applied = catalog_apply_batch(shop=other_shop, products=renamed, levels=levels[:2])
    assert applied.created_products == 3 and applied.per_product == 0
    assert _mirror(shop) == mine
    assert set(Product.objects.filter(shop=other_shop).values_list("title", flat=True)) == {
        "Theirs 0", "Theirs 1", "Theirs 2"}
    assert InventoryLevel.objects.filter(shop=other_shop).count() == 2


def test_a_new_product_taking_a_mirrored_inventory_item_moves_it(
        shop: Shop, other_shop: Shop) -> None:
    """A stale variant holding the item id, a product twice in one batch: the per-product
    path takes them, with the same result."""
    old = product_snapshot(shopify_id=PRODUCT_ID + 5,
                           variants=(variant_snapshot(VARIANT_ID + 5, item=ITEM_ID),))
    products = [product_snapshot(minutes=1), product_snapshot(minutes=2, title="Twice")]
    for target in (shop, other_shop):
        product_apply(shop=target, snapshot=old)
    _per_product(shop, products, [level(4, minutes=1)])
    applied = catalog_apply_batch(shop=other_shop, products=products, levels=[level(4, minutes=1)])
    assert applied.created_products == 0 and applied.per_product == 2
    assert _mirror(other_shop) == _mirror(shop)
    assert Variant.objects.get(shop=other_shop, shopify_id=VARIANT_ID).inventory_item_id == ITEM_ID
