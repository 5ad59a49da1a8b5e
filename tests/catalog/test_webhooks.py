"""End to end: a webhook signed as Shopify signs it → the intake → the shop's job → the mirror
and restock detection; out of order, twice, unknown items and bad payloads."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from integrations.shopify.tokens import tokens_forget
from notifyme.catalog.models import Product, Variant
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop
from notifyme.webhooks import processing
from notifyme.webhooks.models import WebhookEvent
from tests.catalog.conftest import ITEM_ID, PRODUCT_ID, VARIANT_ID
from tests.catalog.rest_payloads import rest_level, rest_product, rest_variant
from tests.restocks.conftest import add_subscribers
from tests.webhooks.conftest import SHOP, deliver

pytestmark = pytest.mark.django_db
OTHER = "other-shop.myshopify.com"


def _send(client: Client, topic: str, payload: Any, *, shop_domain: str = SHOP,
          **signing: Any) -> WebhookEvent:
    """Deliver, run the shop's job, return the event as it ended."""
    assert deliver(client, topic, payload, shop_domain=shop_domain, **signing).status_code == 200
    processing.process_shop(shop_domain)
    return WebhookEvent.objects.filter(shop_domain=shop_domain).latest("id")


def _variant(shop: Shop) -> Variant:
    return Variant.objects.select_related("product").get(shop=shop, shopify_id=VARIANT_ID)


def test_products_create_and_out_of_order_updates(client: Client, shop: Shop) -> None:
    created = _send(client, "products/create", rest_product(
        updated_at="2026-12-01T07:00:00-05:00", title="v1"))
    assert (created.state, created.outcome) == ("processed", f"product {PRODUCT_ID} created")
    newer = _send(client, "products/update", rest_product(
        updated_at="2026-12-01T07:10:00-05:00", title="v3"))
    assert newer.state == "processed"
    older = _send(client, "products/update", rest_product(
        updated_at="2026-12-01T07:05:00-05:00", title="v2"))
    assert older.state == "processed" and "older than the mirror" in older.outcome
    assert Product.objects.get(shop=shop).title == "v3"
    assert _variant(shop).inventory_item_id == ITEM_ID


def test_a_redelivery_is_stored_once_and_changes_nothing(client: Client, shop: Shop) -> None:
    payload = rest_product()
    _send(client, "products/update", payload, webhook_id="wh-1")
    before = Variant.objects.values().get(shop=shop)
    _send(client, "products/update", payload, webhook_id="wh-1")
    _send(client, "products/update", payload, webhook_id="wh-2")  # same change, new delivery
    assert WebhookEvent.objects.count() == 2
    assert Variant.objects.values().get(shop=shop) == before


def test_a_level_rise_restocks_a_published_product(client: Client, shop: Shop) -> None:
    _send(client, "products/create", rest_product())
    add_subscribers(shop, _variant(shop), 3)
    event = _send(client, "inventory_levels/update", rest_level(5))
    assert event.state == "processed" and "restock #" in event.outcome
    assert Restock.objects.get().total == 3 and _variant(shop).available_quantity == 5
    again = _send(client, "inventory_levels/update", rest_level(5))
    assert "no stock change" in again.outcome and Restock.objects.count() == 1


def test_an_unpublished_product_does_not_restock(client: Client, shop: Shop) -> None:
    _send(client, "products/create", rest_product(published_at=None))
    add_subscribers(shop, _variant(shop), 2)
    event = _send(client, "inventory_levels/update", rest_level(5))
    assert "not published to the Online Store" in event.outcome
    assert not Restock.objects.exists()


def test_products_delete_keeps_the_rows(client: Client, shop: Shop) -> None:
    _send(client, "products/create", rest_product())
    event = _send(client, "products/delete", {"id": PRODUCT_ID})
    assert event.state == "processed" and "removed" in event.outcome
    assert _variant(shop).removed_at is not None
    late = _send(client, "products/update", rest_product(variants=[rest_variant(quantity=4)]))
    assert "removed in Shopify" in late.outcome


def test_an_unknown_inventory_item_completes_with_the_reason(client: Client, shop: Shop
                                                             ) -> None:
    tokens_forget(shop=shop)  # no Shopify token: no Admin API lookup is possible
    event = _send(client, "inventory_levels/update", rest_level(5, item=ITEM_ID + 7))
    assert (event.state, event.outcome) == ("processed", "inventory item not in the catalog")


def test_a_bad_payload_fails_the_event_naming_the_field(client: Client, shop: Shop) -> None:
    event = _send(client, "products/update",
                  rest_product(variants=[rest_variant(price=19.99)]))
    assert event.state == "failed" and "variants[0].price" in event.last_error
    assert not Product.objects.exists()  # nothing half-written


def test_two_shops_with_the_same_ids_stay_apart(client: Client, shop: Shop,
                                                other_shop: Shop) -> None:
    _send(client, "products/create", rest_product(title="Mine"))
    _send(client, "products/create", rest_product(title="Theirs"), shop_domain=OTHER)
    _send(client, "inventory_levels/update", rest_level(9), shop_domain=OTHER)
    _send(client, "products/delete", {"id": PRODUCT_ID}, shop_domain=OTHER)
    mine = _variant(shop)
    assert mine.product.title == "Mine" and mine.product.removed_at is None
    assert mine.available_quantity == 0 and _variant(other_shop).available_quantity == 9
