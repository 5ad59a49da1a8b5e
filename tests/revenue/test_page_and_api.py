"""The merchant's Revenue page and API: the numbers in the server-rendered page, errors as
JSON naming the field, no access without an ID token, and an unreadable order failing its
webhook event visibly (with the field) instead of counting anything."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from notifyme.revenue.models import RecoveredOrder
from tests.fixtures.shopify import id_token
from tests.revenue.conftest import SHOP, Store, landing_of, order_payload


def test_the_page_shows_what_the_alerts_earned(store: Store) -> None:
    at = timezone.now() + timedelta(hours=1)
    store.order(order_payload(7001, at=at, email="ada@example.com",
                              landing_site=landing_of(store.alert_url()),
                              lines=[(4001, 2, "49.00")]))
    store.order(order_payload(7002, at=at, email="cyd@example.com", lines=[(4001, 1, "49.00")]))
    page = store.client.get("/app/revenue", {"id_token": id_token(SHOP), "shop": SHOP,
                                             "embedded": "1"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Recovered revenue" in html and 'data-revenue-totals="USD"' in html
    assert "147.00 USD" in html  # total
    assert '<span class="stat-value" data-direct>98.00</span>' in html
    assert '<span class="stat-value" data-assisted>49.00</span>' in html
    assert f'data-restock="{store.restocks[0].pk}"' in html and "Linen Shirt" in html
    assert f"https://{SHOP}/admin/orders/7001" in html and ">#7001</a>" in html
    assert 'value="7"' in html  # the window field
    fragment = store.client.get("/app/api/revenue/panel",
                                HTTP_AUTHORIZATION=f"Bearer {id_token(SHOP)}")
    assert fragment.status_code == 200 and "147.00 USD" in fragment.content.decode()


def test_an_empty_report_explains_itself(store: Store) -> None:
    page = store.client.get("/app/revenue", {"id_token": id_token(SHOP), "shop": SHOP})
    assert page.status_code == 200 and "No recovered orders yet" in page.content.decode()
    assert store.report() == {"window_days": 7, "totals": [], "by_restock": [],
                              "by_product": [], "by_month": [], "recent_orders": []}


def test_no_token_no_revenue(client: Client, store: Store) -> None:
    assert client.get("/app/api/revenue").status_code == 401
    assert client.post("/app/api/revenue", "{}", content_type="application/json"
                       ).status_code == 401
    assert client.get("/app/api/revenue",
                      HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401
    page = client.get("/app/revenue", {"shop": SHOP})
    assert page.status_code == 302 and "/app/bounce" in page["Location"]


def test_bad_input_is_a_json_error_naming_the_field(store: Store) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {id_token(SHOP)}"}
    broken = store.client.post("/app/api/revenue", "{nope", content_type="application/json",
                               **auth)
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"
    extra = store.client.post("/app/api/revenue", '{"window_days": 5, "windw": 1}',
                              content_type="application/json", **auth)
    assert extra.status_code == 400 and list(extra.json()["error"]["fields"]) == ["windw"]
    missing = store.set_window(None)
    assert missing.status_code == 400
    assert missing.json()["error"]["fields"]["window_days"] == [
        "Enter a whole number of days from 1 to 90."]
    assert store.client.delete("/app/api/revenue", **auth).status_code == 405
    assert store.report()["window_days"] == 7


def test_an_unreadable_order_fails_its_event_with_the_field(store: Store) -> None:
    good = order_payload(7003, at=timezone.now(), email="ada@example.com",
                         lines=[(4001, 1, "49.00")])
    for change, field in (({"created_at": "yesterday"}, "created_at"),
                          ({"currency": None}, "currency"),
                          ({"line_items": {"oops": 1}}, "line_items"),
                          ({"line_items": [{"id": 1, "variant_id": 4001, "quantity": "two",
                                            "price": "1.00"}]}, "line_items[0].quantity"),
                          ({"line_items": [{"id": 1, "variant_id": 4001, "quantity": 1,
                                            "price": "NaN"}]}, "line_items[0].price"),
                          ({"id": "abc"}, "id")):
        event = store.order({**good, **change})
        assert event.state == "failed", change
        assert f"OrderPayloadError: {field}:" in event.last_error
    assert not RecoveredOrder.objects.exists()
