"""One waitlist row → a storefront-shaped signup, or the reasons it cannot be one.

A row goes through exactly what a storefront signup goes through: `subscribe_input_validate`
(the storefront's field rules: email normalisation, E.164 phone with the shop's country as
hint, consent needs its channel's contact) and then `subscription_create` (in `importing`).
What only an import has is read here: the variant by id (a GID works) or SKU, consent written
the way other apps write it, and the row's timestamp (ISO 8601; no zone means UTC; not in the
future) which becomes the signup and consent time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from notifyme.catalog.models import Variant
from notifyme.shops.models import Shop
from notifyme.subscriptions.forms import (
    SubscribeInput,
    SubscribeInputInvalid,
    subscribe_input_validate,
)
from notifyme.waitlists.csvfile import Header, cell_unguard

YES = frozenset({"yes", "y", "true", "1", "subscribed", "opted in", "opt in", "granted",
                 "accepted", "x"})
NO = frozenset({"no", "n", "false", "0", "", "unsubscribed", "never subscribed",
                "not subscribed", "opted out", "opt out", "declined", "pending"})
DEFAULT_CONSENT_VERSION = "imported"
WAITING = frozenset({"", "active", "waiting", "subscribed", "pending"})
GID_RE = re.compile(r"gid://shopify/ProductVariant/(\d+)")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
#: A clock a few minutes ahead in the other app is not a future signup.
CLOCK_SKEW = timedelta(minutes=5)
#: Form field → the column it came from (to name the file's own column in the report).
FIELD_COLUMN = {"variant_id": "variant_id", "email": "email", "phone": "phone",
                "country": "country", "marketing_consent": "marketing_consent",
                "consent_text_version": "consent_text_version", "sms_consent": "sms_consent",
                "sms_consent_text_version": "sms_consent_text_version", "locale": "locale",
                "first_name": "first_name", "quantity": "quantity"}


@dataclass
class RowResult:
    """A valid row (`signup`, `variant`, `signed_up_at`) or its `errors` as (field, message)."""

    signup: SubscribeInput | None = None
    variant: Variant | None = None
    signed_up_at: datetime | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)


class VariantFinder:
    """The shop's variants by Shopify id or SKU, each looked up once per import."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self._by_id: dict[int, Variant | None] = {}
        self._by_sku: dict[str, list[Variant]] = {}

    def by_id(self, shopify_id: int) -> Variant | None:
        if shopify_id not in self._by_id:
            self._by_id[shopify_id] = (Variant.objects.select_related("product")
                                       .filter(shop=self.shop, shopify_id=shopify_id).first())
        return self._by_id[shopify_id]

    def by_sku(self, sku: str) -> list[Variant]:
        if sku not in self._by_sku:
            self._by_sku[sku] = list(Variant.objects.select_related("product")
                                     .filter(shop=self.shop, sku=sku)[:2])
        return self._by_sku[sku]


def consent_read(value: str) -> bool | None:
    """True / False for the ways apps write consent; None when it is neither."""
    word = re.sub(r"[\s_\-]+", " ", value.strip().lower())
    if word in YES:
        return True
    if word in NO:
        return False
    return None


def timestamp_read(value: str, *, now: datetime) -> datetime:
    """An aware datetime from ISO 8601 text (naive = UTC); ValueError with the reason."""
    text = value.strip().removesuffix(" UTC").removesuffix(" GMT")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("Use a date and time like 2024-05-01 14:30 or "
                         "2024-05-01T14:30:00Z.") from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    if moment > now + CLOCK_SKEW:
        raise ValueError("The time is in the future.")
    if moment < EARLIEST:
        raise ValueError("The time is before the year 2000.")
    return moment


def _cell(cells: Sequence[str], header: Header, column: str) -> str:
    position = header.index.get(column)
    if position is None or position >= len(cells):
        return ""
    return cell_unguard(cells[position].strip())


def _variant(cells: Sequence[str], header: Header, finder: VariantFinder,
             result: RowResult) -> Variant | None:
    raw_id = _cell(cells, header, "variant_id")
    sku = _cell(cells, header, "sku")
    if raw_id:
        match = GID_RE.fullmatch(raw_id)
        digits = match.group(1) if match else raw_id
        if not (digits.isascii() and digits.isdigit() and 0 < int(digits) < 2**63):
            result.errors.append(("variant_id", "Must be a Shopify variant id (a positive whole "
                                                "number)."))
            return None
        variant = finder.by_id(int(digits))
        if variant is None:
            result.errors.append(("variant_id", f"No variant {digits} in your store's catalog."))
        return variant
    if sku:
        found = finder.by_sku(sku)
        if len(found) == 1:
            return found[0]
        message = (f"No variant has SKU {sku[:60]}." if not found else
                   f"More than one variant has SKU {sku[:60]}: use the variant id.")
        result.errors.append(("sku", message))
        return None
    result.errors.append(("variant_id" if "variant_id" in header.index else "sku",
                          "Empty: each row needs its variant."))
    return None


def _consents(cells: Sequence[str], header: Header, data: dict[str, Any],
              result: RowResult) -> None:
    for name, version in (("marketing_consent", "consent_text_version"),
                          ("sms_consent", "sms_consent_text_version")):
        given = consent_read(_cell(cells, header, name))
        if given is None:
            result.errors.append((name, "Write yes or no (or subscribed / unsubscribed)."))
        data[name] = bool(given)
        data[version] = (_cell(cells, header, version) or DEFAULT_CONSENT_VERSION) if given \
            else None


def _timestamp(cells: Sequence[str], header: Header, data: dict[str, Any], result: RowResult,
               now: datetime) -> None:
    raw_time = _cell(cells, header, "timestamp")
    if raw_time:
        try:
            result.signed_up_at = timestamp_read(raw_time, now=now)
        except ValueError as error:
            result.errors.append(("timestamp", str(error)))
    elif data["marketing_consent"] or data["sms_consent"]:
        result.errors.append(("timestamp", "Consent needs the time it was given: add a "
                                           "timestamp column (when the shopper signed up)."))


def row_read(cells: Sequence[str], *, header: Header, finder: VariantFinder,
             now: datetime) -> RowResult:
    """Read and validate one data row; every problem of the row is reported, not the first."""
    result = RowResult()
    status = _cell(cells, header, "status").lower()
    if status not in WAITING:
        result.errors.append(("status", f"Not waiting (status {status[:30]}): an ended alert "
                                        "is not imported."))
    variant = _variant(cells, header, finder, result)
    if variant is not None and not variant.accepts_alerts:
        why = ("was deleted in Shopify" if variant.removed_at is not None else
               "can be bought now (in stock or not tracked), so there is nothing to wait for")
        result.errors.append(("variant_id", f"{variant} {why}."))
    data: dict[str, Any] = {
        "variant_id": str(variant.shopify_id) if variant is not None else "1",
        "country": _cell(cells, header, "country") or None,
    }
    for name in ("email", "phone", "locale", "first_name", "quantity"):
        data[name] = _cell(cells, header, name) or None
    _consents(cells, header, data, result)
    _timestamp(cells, header, data, result, now)
    try:
        signup = subscribe_input_validate(data, default_country=finder.shop.country_code)
    except SubscribeInputInvalid as invalid:
        for name, messages in invalid.fields.items():
            result.errors.extend((FIELD_COLUMN.get(name, name), m) for m in messages)
        return result
    if not result.errors:
        result.signup, result.variant = signup, variant
    return result
