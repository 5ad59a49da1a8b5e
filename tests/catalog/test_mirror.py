"""Shopify's product changes on the mirror: newer-only, idempotent, removals keep history,
and restocks start only for products published to the Online Store."""

from __future__ import annotations

from decimal import Decimal

import pytest

from notifyme.catalog.models import Product, Variant
from notifyme.catalog.services import product_apply, product_remove, variant_update_stock
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop
from tests.catalog.conftest import (
    ITEM_ID,
    PRODUCT_ID,
    VARIANT_ID,
    at,
    product_snapshot,
    variant_snapshot,
)
from tests.restocks.conftest import add_subscribers

pytestmark = pytest.mark.django_db


def _variant(shop: Shop, shopify_id: int = VARIANT_ID) -> Variant:
    return Variant.objects.select_related("product").get(shop=shop, shopify_id=shopify_id)


def test_a_new_product_is_mirrored_with_its_variants(shop: Shop) -> None:
    applied = product_apply(shop=shop, snapshot=product_snapshot(
        status="active", published_online=True, variants=(
            variant_snapshot(quantity=3, price=Decimal("19.99")),
            variant_snapshot(VARIANT_ID + 1, item=ITEM_ID + 1, inventory_tracked=False))))
    assert applied.applied and applied.created
    variant = _variant(shop)
    assert (variant.inventory_item_id, variant.available_quantity, variant.price) == (
        ITEM_ID, 3, Decimal("19.99"))
    assert variant.product.shopify_id == PRODUCT_ID and variant.product.published_online
    assert _variant(shop, VARIANT_ID + 1).inventory_tracked is False


def test_an_older_update_arriving_late_is_ignored(shop: Shop) -> None:
    product_apply(shop=shop, snapshot=product_snapshot(minutes=10, title="Linen Shirt v2"))
    late = product_apply(shop=shop, snapshot=product_snapshot(minutes=5, title="Linen Shirt v1"))
    assert not late.applied and "older than the mirror" in late.reason
    assert "not applied" in late.describe()
    product = Product.objects.get(shop=shop)
    assert product.title == "Linen Shirt v2" and product.shopify_updated_at == at(10)


def test_the_same_update_twice_changes_nothing(shop: Shop) -> None:
    snapshot = product_snapshot(minutes=1, variants=(variant_snapshot(minutes=1, quantity=2),))
    product_apply(shop=shop, snapshot=snapshot)
    before = (Product.objects.values().get(shop=shop), Variant.objects.values().get(shop=shop))
    again = product_apply(shop=shop, snapshot=snapshot)
    assert again.applied and not again.created and again.stock == ()
    assert (Product.objects.values().get(shop=shop),
            Variant.objects.values().get(shop=shop)) == before  # not even updated_at


def test_a_variant_missing_from_a_complete_snapshot_is_removed_not_deleted(shop: Shop) -> None:
    two = (variant_snapshot(), variant_snapshot(VARIANT_ID + 1, item=ITEM_ID + 1))
    product_apply(shop=shop, snapshot=product_snapshot(variants=two))
    gone = _variant(shop, VARIANT_ID + 1)
    add_subscribers(shop, gone, 2)
    applied = product_apply(shop=shop, snapshot=product_snapshot(minutes=1, variants=two[:1]))
    assert applied.variants_removed == 1
    gone.refresh_from_db()
    assert gone.removed_at is not None and gone.subscriptions.count() == 2
    assert _variant(shop).removed_at is None
    # A truncated source (REST lists at most 100) never removes what it does not list.
    partial = product_snapshot(minutes=2, variants=(), complete_variants=False)
    assert product_apply(shop=shop, snapshot=partial).variants_removed == 0
    assert _variant(shop).removed_at is None
    # The removed variant's stock coming back starts nothing.
    detection = variant_update_stock(variant=gone, quantity=5).reactions[0]
    assert not detection.acted and "removed" in detection.describe()


def test_a_deleted_product_keeps_its_rows_and_never_restocks(shop: Shop) -> None:
    product_apply(shop=shop, snapshot=product_snapshot(minutes=1))
    variant = _variant(shop)
    add_subscribers(shop, variant, 3)
    removed = product_remove(shop=shop, shopify_id=PRODUCT_ID, at=at(30))
    assert removed.applied and removed.variants_removed == 1
    assert not product_remove(shop=shop, shopify_id=PRODUCT_ID, at=at(31)).applied  # idempotent
    variant.refresh_from_db()
    assert variant.removed_at == at(30) and variant.product.removed_at == at(30)
    assert variant.subscriptions.filter(status="active").count() == 3  # kept, see docs
    # An update from before the delete, delivered after it, does not bring it back.
    late = product_apply(shop=shop, snapshot=product_snapshot(
        minutes=20, variants=(variant_snapshot(minutes=20, quantity=8),)))
    assert not late.applied and "removed in Shopify" in late.reason
    detection = variant_update_stock(variant=variant, quantity=8).reactions[0]
    assert not detection.acted and not Restock.objects.exists()


def test_a_delete_before_the_create_leaves_a_tombstone(shop: Shop) -> None:
    product_remove(shop=shop, shopify_id=PRODUCT_ID, at=at(30))
    late_create = product_apply(shop=shop, snapshot=product_snapshot(minutes=1))
    assert not late_create.applied
    assert not Variant.objects.filter(shop=shop).exists()


def test_an_unpublished_product_does_not_restock_and_publishing_it_does(shop: Shop) -> None:
    hidden = product_snapshot(published_online=False,
                              variants=(variant_snapshot(quantity=0),))
    product_apply(shop=shop, snapshot=hidden)
    variant = _variant(shop)
    add_subscribers(shop, variant, 2)
    restocked = product_apply(shop=shop, snapshot=product_snapshot(
        minutes=1, published_online=False, variants=(variant_snapshot(minutes=1, quantity=6),)))
    detection = restocked.stock[0].reactions[0]
    assert not detection.acted and "not published to the Online Store" in detection.describe()
    assert not Restock.objects.exists()
    published = product_apply(shop=shop, snapshot=product_snapshot(
        minutes=2, published_online=True, variants=(variant_snapshot(minutes=2, quantity=6),)))
    assert [update.acted for update in published.stock] == [True]
    restock = Restock.objects.get()
    assert restock.variant_id == variant.pk and restock.total == 2


def test_a_published_product_restocks_from_its_snapshot(shop: Shop) -> None:
    product_apply(shop=shop, snapshot=product_snapshot())
    add_subscribers(shop, _variant(shop), 4)
    applied = product_apply(shop=shop, snapshot=product_snapshot(
        minutes=1, variants=(variant_snapshot(minutes=1, quantity=5),)))
    assert applied.stock[0].acted and "restock" in applied.describe()
    assert Restock.objects.get().total == 4


def test_two_shops_with_the_same_shopify_ids_are_separate(shop: Shop, other_shop: Shop) -> None:
    product_apply(shop=shop, snapshot=product_snapshot(minutes=5, title="Mine"))
    product_apply(shop=other_shop, snapshot=product_snapshot(minutes=1, title="Theirs"))
    product_remove(shop=other_shop, shopify_id=PRODUCT_ID, at=at(10))
    mine = Product.objects.get(shop=shop)
    assert mine.title == "Mine" and mine.removed_at is None
    assert Product.objects.get(shop=other_shop).removed_at == at(10)
    assert _variant(shop).inventory_item_id == _variant(other_shop).inventory_item_id == ITEM_ID
