"""What the revenue rows keep, and who can see or erase them: no plaintext contact stored,
`customers/redact` and `shop/redact` erase the shopper's / shop's orders, a data request
lists them, and one merchant never sees another's orders."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from notifyme.privacy.models import ComplianceRequest
from notifyme.privacy.reports import data_request_report
from notifyme.revenue.models import AttributionSettings, RecoveredLine, RecoveredOrder
from notifyme.shops.models import Shop
from notifyme.webhooks import processing
from tests.fixtures.shopify import id_token, make_shop, make_variant
from tests.revenue.conftest import (
    ADA_CUSTOMER,
    OTHER,
    SHOP,
    Store,
    landing_of,
    order_payload,
)
from tests.webhooks.conftest import deliver

LATER = timedelta(hours=3)


def _orders(store: Store) -> None:
    """Ada (direct), Bob (phone, assisted) and Cyd (assisted) each order once."""
    at = timezone.now() + LATER
    link = landing_of(store.alert_url())
    for order_id, who in ((6001, {"email": "ada@example.com", "customer_id": ADA_CUSTOMER,
                                  "landing_site": link}),
                          (6002, {"phone": "+14155550123"}), (6003, {"email": "cyd@example.com"})):
        event = store.order(order_payload(order_id, at=at, lines=[(4001, 1, "49.00")], **who))
        assert event.outcome.startswith(f"order {order_id}: "), event.outcome
    assert RecoveredOrder.objects.count() == 3


def _compliance(client: Client, topic: str, payload: dict[str, object],
                shop_domain: str = SHOP) -> None:
    assert deliver(client, topic, payload, shop_domain=shop_domain).status_code == 200
    processing.process_shop(shop_domain)


def test_no_contact_is_stored_in_plaintext(store: Store) -> None:
    _orders(store)
    for row in RecoveredOrder.objects.values():
        text = " ".join(str(value) for value in row.values()).lower()
        assert "ada" not in text and "cyd" not in text and "4155550123" not in text
        assert "lovelace" not in text and "analytical" not in text  # name, address
    assert {o.email_digest != "" for o in RecoveredOrder.objects.exclude(shopify_id=6002)} \
        == {True}


def test_customers_redact_erases_that_shoppers_orders_only(store: Store) -> None:
    _orders(store)
    _compliance(store.client, "customers/redact", {
        "shop_id": 1, "shop_domain": SHOP, "orders_to_redact": [],
        "customer": {"id": ADA_CUSTOMER, "email": "ADA@example.com", "phone": None}})
    assert set(RecoveredOrder.objects.values_list("shopify_id", flat=True)) == {6002, 6003}
    audit = ComplianceRequest.objects.get(topic="customers/redact")
    assert audit.counts["recovered_orders"] == 1
    assert store.report()["totals"][0]["orders"] == 2


def test_customers_redact_matches_by_phone_digest_and_by_order_id(store: Store) -> None:
    _orders(store)
    _compliance(store.client, "customers/redact", {
        "shop_id": 1, "shop_domain": SHOP, "orders_to_redact": [],
        "customer": {"id": 123, "email": None, "phone": "+1 (415) 555-0123"}})
    assert not RecoveredOrder.objects.filter(shopify_id=6002).exists()
    _compliance(store.client, "customers/redact", {
        "shop_id": 1, "shop_domain": SHOP, "orders_to_redact": [6003],
        "customer": {"id": 456, "email": "someone-else@example.com"}})
    assert list(RecoveredOrder.objects.values_list("shopify_id", flat=True)) == [6001]


def test_a_data_request_lists_the_shoppers_orders(store: Store) -> None:
    _orders(store)
    _compliance(store.client, "customers/data_request", {
        "shop_id": 1, "shop_domain": SHOP, "data_request": {"id": 77},
        "customer": {"id": ADA_CUSTOMER, "email": "ada@example.com"}})
    request = ComplianceRequest.objects.get(topic="customers/data_request")
    assert request.counts["recovered_orders"] == 1
    [order] = data_request_report(request=request)["recovered_orders"]
    assert (order["order_id"], order["channel"]) == (6001, "direct")
    assert order["lines"] == [{"variant_id": 4001, "quantity": 1, "amount": "49.00",
                               "restock": store.restocks[0].pk}]


def test_shop_redact_erases_every_order_of_the_shop(store: Store) -> None:
    _orders(store)
    store.set_window(14)
    other = make_shop(OTHER, name="Other Shop")
    AttributionSettings.objects.create(shop=other, window_days=3)
    _compliance(store.client, "shop/redact", {"shop_id": 1, "shop_domain": SHOP})
    assert not Shop.objects.filter(domain=SHOP).exists()
    assert not RecoveredOrder.objects.exists() and not RecoveredLine.objects.exists()
    assert list(AttributionSettings.objects.values_list("shop__domain", flat=True)) == [OTHER]
    audit = ComplianceRequest.objects.get(topic="shop/redact")
    assert audit.counts["revenue.recoveredorder"] == 3


def test_one_merchant_never_sees_or_gets_another_merchants_orders(store: Store) -> None:
    _orders(store)
    other = make_shop(OTHER, name="Other Shop")
    make_variant(other, shopify_id=4001, quantity=3)  # same variant id, same shopper email
    event = store.order(order_payload(6101, at=timezone.now() + LATER, email="ada@example.com",
                                      customer_id=ADA_CUSTOMER,
                                      landing_site=landing_of(store.alert_url()),
                                      lines=[(4001, 1, "49.00")]), shop_domain=OTHER)
    assert event.outcome == "order 6101: no alerted variant of this shopper"
    assert store.report(OTHER)["totals"] == [] and store.report(OTHER)["recent_orders"] == []
    assert store.set_window(30, OTHER).status_code == 200
    mine = store.report(SHOP)
    assert mine["window_days"] == 7 and mine["totals"][0]["orders"] == 3
    # The shop is the token's: a ?shop= naming another shop is refused, not honoured.
    response = store.client.get(f"/app/api/revenue?shop={OTHER}",
                                HTTP_AUTHORIZATION=f"Bearer {id_token(SHOP)}")
    assert response.status_code == 401
