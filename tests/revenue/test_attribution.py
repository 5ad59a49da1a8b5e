"""Attribution through the real webhook pipeline: direct, assisted, outside the window, a
different shopper, a variant that was not alerted, a redelivered webhook, one order matched by
several subscriptions — each counted at most once, with revenue = price x quantity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from notifyme.catalog.services import variant_update_stock
from notifyme.restocks.models import RestockDelivery
from notifyme.revenue.models import RecoveredLine, RecoveredOrder
from tests.revenue.conftest import ADA_CUSTOMER, Store, landing_of, order_payload, restock, signup


def _sent_at(store: Store) -> datetime:
    times = RestockDelivery.objects.filter(restock=store.restocks[0]).values_list("sent_at",
                                                                                  flat=True)
    return max(t for t in times if t is not None)


def test_an_order_through_the_alert_link_is_direct(store: Store) -> None:
    link = store.alert_url()
    assert "utm_source=notifyme" in link and f"restock-{store.restocks[0].pk}" in link
    at = _sent_at(store) + timedelta(hours=2)
    event = store.order(order_payload(
        5001, at=at, email="Ada@Example.COM ", landing_site=landing_of(link),
        lines=[(4001, 2, "49.00"), (4002, 1, "30.00"), (None, 1, "5.00")]))  # type: ignore[list-item]
    assert event.state == "processed", event.last_error
    assert event.outcome == "order 5001: direct recovered revenue, 1 line(s), 98.00 USD"
    assert event.payload is None  # the shopper's data does not stay in the webhook log

    report = store.report()
    assert report["window_days"] == 7
    assert report["totals"] == [{"currency": "USD", "orders": 1, "direct_orders": 1,
                                 "assisted_orders": 0, "units": 2, "direct": "98.00",
                                 "assisted": "0.00", "total": "98.00"}]
    [by_restock] = report["by_restock"]
    assert by_restock["restock_id"] == store.restocks[0].pk and by_restock["alerts_sent"] == 3
    assert by_restock["product_title"] == "Linen Shirt" and by_restock["variant_title"] == "Large"
    assert by_restock["conversion"] == round(1 / 3, 4) and by_restock["total"] == "98.00"
    [by_product] = report["by_product"]
    assert (by_product["product_id"], by_product["direct"]) == (9001, "98.00")
    [by_month] = report["by_month"]
    assert by_month["month"] == at.astimezone(UTC).strftime("%Y-%m")
    [recent] = report["recent_orders"]
    assert (recent["order_id"], recent["name"], recent["channel"], recent["total"]) == (
        5001, "#5001", "direct", "98.00")
    assert recent["hours_after_alert"] == 2.0


def test_an_order_without_the_link_is_assisted_and_matched_by_customer_id(store: Store) -> None:
    at = _sent_at(store) + timedelta(days=3)
    event = store.order(order_payload(5002, at=at, customer_id=ADA_CUSTOMER,
                                      email="ada.work@example.org", landing_site="/collections/all",
                                      lines=[(4001, 1, "49.00")]))
    assert event.outcome.startswith("order 5002: assisted")
    [total] = store.report()["totals"]
    assert (total["assisted"], total["direct"], total["orders"]) == ("49.00", "0.00", 1)


def test_a_phone_in_local_format_matches_the_e164_subscriber(store: Store) -> None:
    at = _sent_at(store) + timedelta(hours=5)
    store.order(order_payload(5003, at=at, phone="(415) 555-0123", landing_site=None,
                              lines=[(4001, 3, "45.50")]))
    assert store.report()["totals"][0]["total"] == "136.50"


def test_outside_the_window_counts_only_once_the_merchant_widens_it(store: Store) -> None:
    at = _sent_at(store) + timedelta(days=8)
    event = store.order(order_payload(5004, at=at, email="cyd@example.com",
                                      lines=[(4001, 1, "49.00")]))
    assert event.state == "processed"
    assert store.report()["totals"] == []  # 8 days > the default 7

    for bad in ("abc", 0, 91, True, None, 7.5, "-3"):
        response = store.set_window(bad)
        assert response.status_code == 400, bad
        assert list(response.json()["error"]["fields"]) == ["window_days"]
    assert store.report()["window_days"] == 7  # nothing saved

    widened = store.set_window(10)
    assert widened.status_code == 200 and widened.json()["window_days"] == 10
    assert widened.json()["totals"][0]["total"] == "49.00"
    assert store.set_window("3").json()["totals"] == []  # a form's text works too


def test_an_order_before_the_alert_is_not_recovered(store: Store) -> None:
    event = store.order(order_payload(5005, at=_sent_at(store) - timedelta(minutes=5),
                                      email="ada@example.com", lines=[(4001, 1, "49.00")]))
    assert event.outcome == "order 5005: no alerted variant of this shopper"
    assert not RecoveredOrder.objects.exists()


def test_a_different_shopper_through_a_forwarded_link_is_not_counted(store: Store) -> None:
    at = _sent_at(store) + timedelta(hours=1)
    event = store.order(order_payload(5006, at=at, email="eve@example.com", customer_id=999,
                                      landing_site=landing_of(store.alert_url()),
                                      lines=[(4001, 1, "49.00")]))
    assert event.outcome == "order 5006: no alerted variant of this shopper"
    assert not RecoveredOrder.objects.exists() and store.report()["totals"] == []


def test_a_variant_that_was_not_alerted_is_not_counted(store: Store) -> None:
    # Ada waits for 4002 too, but 4002 has not come back: no alert, no attribution.
    signup(store.client, store.other_variant, email="ada@example.com")
    at = _sent_at(store) + timedelta(hours=1)
    event = store.order(order_payload(5007, at=at, email="ada@example.com",
                                      lines=[(4002, 1, "30.00")]))
    assert event.outcome == "order 5007: no alerted variant of this shopper"
    assert store.report()["totals"] == []


def test_a_redelivered_webhook_counts_the_order_once(store: Store) -> None:
    payload = order_payload(5008, at=_sent_at(store) + timedelta(hours=1),
                            email="cyd@example.com", lines=[(4001, 1, "49.00")])
    first = store.order(payload, webhook_id="delivery-1")
    store.order(payload, webhook_id="delivery-1")  # Shopify's retry: same webhook id
    again = store.order(payload, webhook_id="delivery-2")  # the same order, another delivery
    assert first.outcome.startswith("order 5008: assisted")
    assert again.outcome == "order 5008: already counted"
    assert RecoveredOrder.objects.count() == 1 and RecoveredLine.objects.count() == 1
    assert store.report()["totals"][0]["total"] == "49.00"


def test_one_line_matched_by_two_subscriptions_and_two_restocks_counts_once(store: Store
                                                                            ) -> None:
    """The variant sold out again, Ada signed up once more with her phone, and it came back:
    two alerts of two restocks match her order's line; it counts once, under the restock her
    link names."""
    first_link = landing_of(store.alert_url())
    variant_update_stock(variant=store.variant, quantity=0)  # sold out again
    signup(store.client, store.variant, phone="+1 415 555 0199")  # Ada's phone this time
    second = restock(store.variant, 4)
    store.restocks.append(second)
    at = timezone.now() + timedelta(hours=1)
    store.order(order_payload(5009, at=at, email="ada@example.com", phone="+14155550199",
                              customer_id=ADA_CUSTOMER, landing_site=first_link,
                              lines=[(4001, 2, "49.00")]))
    assert RestockDelivery.objects.filter(restock=second, state="sent").count() == 1
    [line] = RecoveredLine.objects.all()
    assert line.restock_id == store.restocks[0].pk and line.amount == 98
    report = store.report()
    assert report["totals"][0]["orders"] == 1 and report["totals"][0]["direct"] == "98.00"
    assert [r["restock_id"] for r in report["by_restock"]] == [store.restocks[0].pk]


def test_a_cancelled_order_stops_counting(store: Store) -> None:
    at = _sent_at(store) + timedelta(hours=1)
    payload = order_payload(5010, at=at, email="cyd@example.com", lines=[(4001, 1, "49.00")])
    store.order(payload)
    store.order(order_payload(5011, at=at, email="ada@example.com", lines=[(4001, 1, "49.00")]))
    assert store.report()["totals"][0]["orders"] == 2

    cancelled = {**payload, "cancelled_at": (at + timedelta(hours=1)).isoformat(),
                 "cancel_reason": "customer"}
    event = store.order(cancelled, topic="orders/cancelled")
    assert event.outcome == "order 5010: cancelled, no longer counted as recovered revenue"
    assert event.payload is None
    assert store.order(cancelled, topic="orders/cancelled").outcome == \
        "order 5010: already cancelled"
    [total] = store.report()["totals"]
    assert (total["orders"], total["total"]) == (1, "49.00")
    assert store.order(payload).outcome == "order 5010: already counted"  # a late redelivery
    assert store.report()["totals"][0]["orders"] == 1

    never = order_payload(5012, at=at, email="eve@example.com", lines=[(4001, 1, "49.00")])
    assert store.order({**never, "cancelled_at": at.isoformat()}, topic="orders/cancelled"
                       ).outcome == "order 5012: not a recovered order, nothing to undo"
    born_cancelled = order_payload(5013, at=at, email="ada@example.com",
                                   lines=[(4001, 1, "49.00")])
    assert store.order({**born_cancelled, "cancelled_at": at.isoformat()}).outcome == \
        "order 5013: cancelled, not counted"
    assert not RecoveredOrder.objects.filter(shopify_id__in=[5012, 5013]).exists()
