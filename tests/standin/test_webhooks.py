"""Signed webhooks to the app on stock and product changes, and the delivery switches."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

from tests.fixtures.shopify_standin import StandinHandle
from tests.standin.conftest import Sink

HEADERS = {"x-shopify-topic", "x-shopify-hmac-sha256", "x-shopify-shop-domain",
           "x-shopify-api-version", "x-shopify-webhook-id", "x-shopify-event-id",
           "x-shopify-triggered-at"}


def shopify_hmac(body: bytes, secret: str) -> str:
    """base64 HMAC-SHA256 of the raw body: Shopify's webhook signature, written here."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def test_the_signature_helper_matches_shopifys_published_vector() -> None:
    body = (b'{"inventory_item_id":808950810,"location_id":905684977,"available":6,'
            b'"updated_at":"2018-05-07T15:51:26-04:00"}')
    assert shopify_hmac(body, "hush") == "UXrcL52UpzZjpGkjZmC1N4eeY+z3xrY9tkuW7z1ohmM="


def _item(handle: StandinHandle, shop: str, sku: str) -> tuple[int, int]:
    dump = handle.admin.shop(shop)
    variant = next(v for p in dump["products"] for v in p["variants"] if v["sku"] == sku)
    return variant["inventory_item_id"], dump["locations"][0]["id"]


def test_a_stock_change_sends_a_signed_inventory_levels_update(
        shopify_standin: StandinHandle, shop: str, sink: Sink) -> None:
    item_id, location_id = _item(shopify_standin, shop, "FJ-M")
    shopify_standin.admin.set_stock(shop, item_id, location_id, 5)
    assert shopify_standin.admin.wait_webhooks()
    [received] = sink.received
    assert received.path == "/webhooks/shopify"
    assert HEADERS <= set(received.headers)
    assert hmac.compare_digest(received.headers["x-shopify-hmac-sha256"],
                               shopify_hmac(received.body, shopify_standin.api_secret))
    assert received.headers["x-shopify-topic"] == "inventory_levels/update"
    assert received.headers["x-shopify-shop-domain"] == shop
    assert received.headers["x-shopify-api-version"] == "2026-10"
    uuid.UUID(received.headers["x-shopify-webhook-id"])
    payload = json.loads(received.body)
    assert payload == {
        "inventory_item_id": item_id, "location_id": location_id, "available": 5,
        "updated_at": payload["updated_at"],
        "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{location_id}"
                                f"?inventory_item_id={item_id}"}
    assert item_id > 2**53 and payload["updated_at"].endswith("-05:00")
    [entry] = shopify_standin.admin.webhook_log(shop)
    assert (entry["state"], entry["status"], entry["attempts"]) == ("delivered", 200, 1)


def test_product_changes_send_rest_products_payloads(shopify_standin: StandinHandle,
                                                     shop: str, sink: Sink) -> None:
    created = shopify_standin.admin.add_product(shop, "Rain Shell", variants=[
        {"title": "One size", "sku": "RS-1", "price": "89.5", "tracked": False,
         "inventory_policy": "CONTINUE"}], image_url="https://cdn.example/rs.png")
    shopify_standin.admin.update_product(shop, created["product_id"], title="Rain Shell II",
                                         published=False)
    shopify_standin.admin.delete_product(shop, created["product_id"])
    assert shopify_standin.admin.wait_webhooks()
    assert sink.topics() == ["products/create", "products/update", "products/delete"]
    create, update, delete = (json.loads(r.body) for r in sink.received)
    [variant] = create["variants"]
    assert variant["price"] == "89.50" and variant["inventory_policy"] == "continue"
    assert variant["inventory_management"] is None
    assert variant["inventory_item_id"] == created["inventory_item_ids"][0]
    assert create["status"] == "active" and create["published_at"] is not None
    assert create["image"]["src"] == "https://cdn.example/rs.png"
    assert update["title"] == "Rain Shell II" and update["published_at"] is None
    assert update["updated_at"] > create["updated_at"]  # strictly newer, even in one second
    assert delete == {"id": created["product_id"]}
    for received in sink.received:
        assert received.headers["x-shopify-hmac-sha256"] == shopify_hmac(
            received.body, shopify_standin.api_secret)


def test_uninstall_and_compliance_topics(shopify_standin: StandinHandle, shop: str,
                                         sink: Sink) -> None:
    shopify_standin.admin.uninstall(shop)
    shopify_standin.admin.send_webhook(shop, "customers/redact",
                                       {"customer": {"id": 7, "email": "a@example.com"}})
    shopify_standin.admin.send_webhook(shop, "shop/redact")
    assert shopify_standin.admin.wait_webhooks()
    assert sink.topics() == ["app/uninstalled", "customers/redact", "shop/redact"]
    uninstalled, redact, shop_redact = (json.loads(r.body) for r in sink.received)
    assert uninstalled["myshopify_domain"] == shop
    assert redact["shop_domain"] == shop and redact["customer"] == {"id": 7,
                                                                    "email": "a@example.com"}
    assert redact["orders_to_redact"] == []
    assert set(shop_redact) == {"shop_id", "shop_domain"}


def test_duplicates_repeat_the_same_webhook_id(shopify_standin: StandinHandle, shop: str,
                                               sink: Sink) -> None:
    shopify_standin.admin.set_switches(duplicates=True)
    item_id, location_id = _item(shopify_standin, shop, "FJ-M")
    shopify_standin.admin.set_stock(shop, item_id, location_id, 2)
    assert shopify_standin.admin.wait_webhooks()
    first, second = sink.received
    assert first.body == second.body
    assert first.headers["x-shopify-webhook-id"] == second.headers["x-shopify-webhook-id"]
    assert [e["duplicate"] for e in shopify_standin.admin.webhook_log(shop)] == [False, True]


def test_out_of_order_releases_held_deliveries_newest_first(
        shopify_standin: StandinHandle, shop: str, sink: Sink) -> None:
    shopify_standin.admin.set_switches(out_of_order=True)
    item_id, location_id = _item(shopify_standin, shop, "FJ-M")
    for available in (1, 2, 3):
        shopify_standin.admin.set_stock(shop, item_id, location_id, available)
    assert shopify_standin.admin.wait_webhooks()
    assert sink.received == []
    assert [e["state"] for e in shopify_standin.admin.webhook_log(shop)] == ["held"] * 3
    shopify_standin.admin.set_switches(out_of_order=False)  # releases them
    assert shopify_standin.admin.wait_webhooks()
    assert [json.loads(r.body)["available"] for r in sink.received] == [3, 2, 1]


def test_out_of_order_in_batches(shopify_standin: StandinHandle, shop: str,
                                 sink: Sink) -> None:
    shopify_standin.admin.set_switches(out_of_order=2)
    item_id, location_id = _item(shopify_standin, shop, "FJ-M")
    for available in (1, 2, 3, 4):
        shopify_standin.admin.set_stock(shop, item_id, location_id, available)
    assert shopify_standin.admin.wait_webhooks()
    assert [json.loads(r.body)["available"] for r in sink.received] == [2, 1, 4, 3]


def test_drop_records_deliveries_as_dropped(shopify_standin: StandinHandle, shop: str,
                                            sink: Sink) -> None:
    shopify_standin.admin.set_switches(drop=True)
    item_id, location_id = _item(shopify_standin, shop, "FJ-M")
    shopify_standin.admin.set_stock(shop, item_id, location_id, 5)
    assert shopify_standin.admin.wait_webhooks()
    assert sink.received == []
    assert [e["state"] for e in shopify_standin.admin.webhook_log(shop)] == ["dropped"]
    shopify_standin.admin.set_switches(drop=0.5)
    for available in range(20):
        shopify_standin.admin.set_stock(shop, item_id, location_id, available)
    assert shopify_standin.admin.wait_webhooks()
    states = [e["state"] for e in shopify_standin.admin.webhook_log(shop)[1:]]
    assert 0 < states.count("dropped") < 20
    assert len(sink.received) == states.count("delivered")


def test_a_failed_delivery_is_retried_with_the_same_webhook_id(
        shopify_standin: StandinHandle, shop: str, sink: Sink) -> None:
    sink.statuses = [500, 302]
    item_id, location_id = _item(shopify_standin, shop, "FJ-M")
    shopify_standin.admin.set_stock(shop, item_id, location_id, 5)
    deadline = time.monotonic() + 30
    while shopify_standin.admin.webhook_log(shop)[0]["state"] == "pending":
        assert time.monotonic() < deadline
        shopify_standin.admin.wait_webhooks()
    [entry] = shopify_standin.admin.webhook_log(shop)
    assert (entry["state"], entry["attempts"]) == ("delivered", 3)  # 500, 3xx, then 200
    assert len({r.headers["x-shopify-webhook-id"] for r in sink.received}) == 1
    assert len(sink.received) == 3


def test_an_unreachable_app_ends_as_failed(shopify_standin: StandinHandle, shop: str,
                                           sink: Sink) -> None:
    sink.statuses = [503, 503, 503]
    item_id, location_id = _item(shopify_standin, shop, "FJ-M")
    shopify_standin.admin.set_stock(shop, item_id, location_id, 5)
    deadline = time.monotonic() + 30
    while shopify_standin.admin.webhook_log(shop)[0]["state"] == "pending":
        assert time.monotonic() < deadline
        shopify_standin.admin.wait_webhooks()
    [entry] = shopify_standin.admin.webhook_log(shop)
    assert (entry["state"], entry["status"], entry["attempts"]) == ("failed", 503, 3)


def test_no_webhook_without_notify(shopify_standin: StandinHandle, shop: str,
                                   sink: Sink) -> None:
    item_id, location_id = _item(shopify_standin, shop, "FJ-M")
    shopify_standin.admin.set_stock(shop, item_id, location_id, 5, notify=False)
    assert shopify_standin.admin.wait_webhooks()
    assert sink.received == [] and shopify_standin.admin.webhook_log(shop) == []
