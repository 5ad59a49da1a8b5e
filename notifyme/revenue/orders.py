"""An `orders/create` payload read into the few facts attribution needs (pure, no queries).

Shopify's REST order (API 2026-10): `id`, `created_at` (ISO 8601 with the shop's offset),
`currency` (the shop's), `email` / `phone` / `customer {id, email, phone}` (any may be null: a
guest checkout, or no protected-customer-data access for the fields), `landing_site` (the first
page of the visit, path + query), `line_items [{id, variant_id, quantity, price,
price_set.shop_money}]`. A line without a variant (a custom item, a tip) cannot be an alerted
variant and is skipped. What cannot be read fails the event with the field named
(`OrderPayloadError`), visibly for support; contact fields that do not parse are treated as
absent (they cannot match a subscriber then, which is the safe side).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from django.utils.dateparse import parse_datetime

from notifyme.subscriptions.emails import EmailInvalid, email_normalize


class OrderPayloadError(ValueError):
    """The order cannot be read; `field` is the payload field to blame."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class OrderLine:
    id: int
    variant_id: int
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class OrderFacts:
    id: int
    name: str  # "#1001", for the merchant
    created_at: datetime
    currency: str
    customer_id: int | None
    email: str  # normalised like Subscription.email, or ""
    phone: str  # E.164 like Subscription.phone, or ""
    landing_site: str
    lines: tuple[OrderLine, ...]
    cancelled_at: datetime | None = None


def _int(value: Any, field: str, *, required: bool = True) -> int | None:
    if value in (None, "") and not required:
        return None
    text = str(value).rsplit("/", 1)[-1] if isinstance(value, str) else value
    if isinstance(text, bool) or not isinstance(text, int | str) or not str(text).isdigit():
        raise OrderPayloadError(field, "must be a Shopify id")
    return int(text)


def _email(*values: Any) -> str:
    for value in values:
        if isinstance(value, str) and value.strip():
            try:
                return email_normalize(value)
            except EmailInvalid:
                continue
    return ""


def _phone(region: str, *values: Any) -> str:
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        try:
            number = phonenumbers.parse(value, region or "US")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ""


def _price(item: dict[str, Any], field: str) -> Decimal:
    """The unit price in the shop's currency (`price_set.shop_money`, else `price`)."""
    price_set = item.get("price_set")
    shop_money = price_set.get("shop_money") if isinstance(price_set, dict) else None
    raw = item.get("price")
    if isinstance(shop_money, dict) and shop_money.get("amount") is not None:
        raw = shop_money["amount"]
    try:
        price = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise OrderPayloadError(field, "must be a decimal amount") from None
    if not price.is_finite() or price < 0 or price >= Decimal("1e12"):
        raise OrderPayloadError(field, "must be a decimal amount")
    return price.quantize(Decimal("0.01"))


def _lines(items: Any) -> tuple[OrderLine, ...]:
    if not isinstance(items, list):
        raise OrderPayloadError("line_items", "must be a list")
    lines = []
    for index, item in enumerate(items):
        where = f"line_items[{index}]"
        if not isinstance(item, dict):
            raise OrderPayloadError(where, "must be an object")
        variant = _int(item.get("variant_id"), f"{where}.variant_id", required=False)
        if variant is None:
            continue
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise OrderPayloadError(f"{where}.quantity", "must be a whole number")
        line_id = _int(item.get("id"), f"{where}.id")
        assert line_id is not None  # required
        lines.append(OrderLine(line_id, variant, quantity, _price(item, f"{where}.price")))
    return tuple(lines)


def order_facts_from_payload(payload: dict[str, Any], *, region: str = "US") -> OrderFacts:
    """The order's facts; `region` is the shop's country (the hint for a local phone)."""
    order_id = _int(payload.get("id"), "id")
    assert order_id is not None  # required
    raw_time = payload.get("created_at")
    created = parse_datetime(raw_time) if isinstance(raw_time, str) else None
    if created is None or created.tzinfo is None:
        raise OrderPayloadError("created_at", "must be an ISO 8601 time with its offset")
    currency = payload.get("currency")
    if not isinstance(currency, str) or len(currency.strip()) != 3:
        raise OrderPayloadError("currency", "must be a three-letter currency code")
    raw_customer = payload.get("customer")
    customer: dict[str, Any] = raw_customer if isinstance(raw_customer, dict) else {}
    landing = payload.get("landing_site")
    name = payload.get("name")
    return OrderFacts(
        id=order_id, name=name.strip()[:32] if isinstance(name, str) else "",
        created_at=created, currency=currency.strip().upper(),
        customer_id=_int(customer.get("id"), "customer.id", required=False),
        email=_email(payload.get("email"), payload.get("contact_email"), customer.get("email")),
        phone=_phone(region, payload.get("phone"), customer.get("phone")),
        landing_site=landing if isinstance(landing, str) else "",
        lines=_lines(payload.get("line_items")),
        cancelled_at=_time(payload.get("cancelled_at")),
    )


def _time(value: Any) -> datetime | None:
    moment = parse_datetime(value) if isinstance(value, str) and value else None
    return moment if moment is not None and moment.tzinfo is not None else None


def order_id_from_payload(payload: dict[str, Any]) -> int:
    """The order's Shopify id (`orders/cancelled` needs nothing else); the field when bad."""
    order_id = _int(payload.get("id"), "id")
    assert order_id is not None  # required
    return order_id


def order_facts_cancelled_at(payload: dict[str, Any]) -> datetime | None:
    """The payload's `cancelled_at` (None when absent or unreadable)."""
    return _time(payload.get("cancelled_at"))
