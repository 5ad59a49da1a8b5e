"""The alert link's UTM tag read back from what Shopify records, and an order payload read into
the facts attribution uses (normalised like the storefront form stores contacts)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from notifyme.restocks.links import alert_link_parse, alert_url
from notifyme.revenue.orders import OrderPayloadError, order_facts_from_payload

BASE = {"id": 1, "created_at": "2026-12-01T10:00:00-05:00", "currency": "usd",
        "line_items": []}


def test_the_alert_link_keeps_the_variant_and_names_the_restock() -> None:
    url = alert_url("https://s.example/products/tote?variant=9&utm_source=old", restock_id=42)
    assert url == ("https://s.example/products/tote?variant=9&utm_source=notifyme"
                   "&utm_medium=back_in_stock&utm_campaign=restock-42")
    assert alert_url("", restock_id=1) == ""
    parsed = alert_link_parse("/products/tote?variant=9&utm_source=notifyme"
                              "&utm_medium=back_in_stock&utm_campaign=restock-42")
    assert (parsed.direct, parsed.restock_id) == (True, 42)


@pytest.mark.parametrize(("landing", "direct", "restock"), [
    (None, False, None), ("", False, None), ("/", False, None),
    ("/products/x?utm_source=klaviyo&utm_medium=email", False, None),
    ("/p?utm_source=NotifyMe&utm_medium=Back_In_Stock", True, None),  # lower-cased by a tool
    ("/p?utm_source=notifyme&utm_medium=back_in_stock&utm_campaign=spring", True, None),
    ("/p?utm_source=notifyme&utm_medium=back_in_stock&utm_campaign=restock-99999999999999999999",
     True, None),
    ("https://shop.example/p?utm_source=notifyme&utm_medium=back_in_stock"
     "&utm_campaign=restock-7&fbclid=x", True, 7),
    ("/p?utm_source=notifyme", False, None), ("http://[bad", False, None),
])
def test_landing_pages(landing: str | None, direct: bool, restock: int | None) -> None:
    parsed = alert_link_parse(landing)
    assert (parsed.direct, parsed.restock_id) == (direct, restock)


def test_contacts_are_normalised_like_the_storefront_stores_them() -> None:
    facts = order_facts_from_payload({
        **BASE, "email": "", "contact_email": "  Ada@EXAMPLE.com ", "phone": "020 7946 0958",
        "customer": {"id": "gid://shopify/Customer/55", "email": "other@example.com"},
        "line_items": [{"id": 10, "variant_id": 4001, "quantity": 2, "price": "9.99",
                        "price_set": {"shop_money": {"amount": "10.50"}}},
                       {"id": 11, "variant_id": None, "quantity": 1, "price": "2.00"},
                       {"id": 12, "variant_id": 4002, "quantity": 1, "price": "3"}],
    }, region="GB")
    assert (facts.email, facts.phone, facts.customer_id) == ("ada@example.com",
                                                             "+442079460958", 55)
    assert facts.currency == "USD" and facts.created_at.utcoffset() is not None
    assert [(line.variant_id, line.amount) for line in facts.lines] == [
        (4001, Decimal("21.00")), (4002, Decimal("3.00"))]  # shop money wins; custom item out


def test_a_guest_checkout_with_unreadable_contacts_names_nobody() -> None:
    facts = order_facts_from_payload({**BASE, "email": "not an email", "phone": "12",
                                      "customer": None})
    assert (facts.email, facts.phone, facts.customer_id) == ("", "", None)


@pytest.mark.parametrize(("change", "field"), [
    ({"id": None}, "id"), ({"id": True}, "id"), ({"created_at": "2026-12-01T10:00:00"},
                                                 "created_at"),
    ({"currency": "dollars"}, "currency"), ({"line_items": None}, "line_items"),
    ({"line_items": ["x"]}, "line_items[0]"),
    ({"line_items": [{"id": 1, "variant_id": 5, "quantity": -1, "price": "1"}]},
     "line_items[0].quantity"),
    ({"line_items": [{"id": 1, "variant_id": 5, "quantity": 1, "price": "-1"}]},
     "line_items[0].price"),
    ({"line_items": [{"id": 1, "variant_id": "five", "quantity": 1, "price": "1"}]},
     "line_items[0].variant_id"),
    ({"customer": {"id": "x"}}, "customer.id"),
])
def test_unreadable_orders_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(OrderPayloadError) as caught:
        order_facts_from_payload({**BASE, **change})
    assert caught.value.field == field
