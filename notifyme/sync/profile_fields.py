"""What we tell Klaviyo about one subscription: profile attributes, consent entry, event.

Pure functions of a Subscription (with variant, product and shop loaded): no I/O, no Klaviyo
client, so they are cheap to call 10,000 times per batch and easy to test. Phone numbers are
normalised to E.164 (Klaviyo's only accepted form) with the shop's country when possible.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from django.utils import timezone

from integrations.klaviyo.client import BulkEvent
from notifyme.catalog.facts import product_facts
from notifyme.delivery import conf
from notifyme.subscriptions.links import storefront_unsubscribe_url
from notifyme.subscriptions.models import Subscription

SUBSCRIBED_METRIC = "Subscribed to Back in Stock"
CUSTOM_SOURCE = "notifyme back-in-stock form"
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
#: What the subscription says after syncing without its phone (`OutboxItem.phone_issue`).
PHONE_NOTES = {
    "invalid": "Klaviyo did not accept the phone number; this subscriber was synced without it.",
    "conflict": "The phone number belongs to another Klaviyo profile; this subscriber was "
                "synced by email only.",
}
LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


def historical_after() -> timedelta:
    """Consent older than this when we sync it is sent as a historical import (see below)."""
    return timedelta(seconds=conf.value("SYNC_HISTORICAL_CONSENT_AFTER_SECONDS"))


def e164(phone: str, *, region: str = "US") -> str:
    """The phone in E.164 when we can make it so; otherwise as given, for Klaviyo to judge.

    Klaviyo is the authority on which numbers it accepts: an unparseable one is dropped with
    `X-Klaviyo-Partial-Failure: phone_number` (single upsert) or rejected with a pointer (bulk),
    and both paths then sync the subscriber without it and say so.
    """
    phone = (phone or "").strip()
    if not phone or E164.match(phone):
        return phone
    try:
        parsed = phonenumbers.parse(phone, region or "US")
    except phonenumbers.NumberParseException:
        return phone
    if not phonenumbers.is_valid_number(parsed):
        return phone
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_for(sub: Subscription, *, drop_phone: bool = False) -> str:
    if drop_phone or not sub.phone:
        return ""
    return e164(sub.phone, region=sub.shop.country_code)


def _shared(sub: Subscription, key: tuple[Any, ...],
            build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A payload part every subscriber of a loaded variant with the same `key` shares: built
    once per loaded variant (rows of one job share variant objects, see rows.load), then the
    same dict object for each of them. A shared object also lets a bulk event body serialize it
    once (client._event_json). Shared, so read-only."""
    variant = sub.variant
    parts: dict[tuple[Any, ...], dict[str, Any]] | None = getattr(
        variant, "_notifyme_parts", None)
    if parts is None:
        parts = variant._notifyme_parts = {}  # type: ignore[attr-defined]
    found = parts.get(key)
    if found is None:
        found = parts[key] = build()
    return found


def _variant_facts(sub: Subscription) -> dict[str, Any]:
    """Product facts shared by every subscriber of a variant (shared: do not modify)."""
    return _shared(sub, ("facts",), lambda: product_facts(sub.variant, sub.shop))


def product_url(sub: Subscription) -> str:
    """The variant's storefront URL, built from the subscription's shop (no extra query)."""
    return str(_variant_facts(sub)["product_url"])


def product_properties(sub: Subscription) -> dict[str, Any]:
    """The requested product as event properties (shared by the variant's subscribers with the
    same quantity and source: do not modify)."""
    return _shared(sub, ("event", sub.quantity_wanted, sub.source), lambda: {
        **_variant_facts(sub), "quantity_wanted": sub.quantity_wanted, "source": sub.source})


def _last_request_properties(sub: Subscription) -> dict[str, Any]:
    """The profile's custom properties about its last request (shared: do not modify)."""
    def build() -> dict[str, Any]:
        facts = _variant_facts(sub)
        return {
            "notifyme_back_in_stock": True,
            "notifyme_last_product_title": facts["product_title"],
            "notifyme_last_variant_title": facts["variant_title"],
            "notifyme_last_product_id": facts["product_id"],
            "notifyme_last_variant_id": facts["variant_id"],
            "notifyme_last_product_url": facts["product_url"],
            "notifyme_source": sub.source,
        }
    return _shared(sub, ("profile", sub.source), build)


def profile_attributes(sub: Subscription, *, drop_phone: bool = False) -> dict[str, Any]:
    """Attributes for profile-import / bulk import / PATCH (omitted = left unchanged)."""
    attrs: dict[str, Any] = {}
    if sub.email:
        attrs["email"] = sub.email
    phone = phone_for(sub, drop_phone=drop_phone)
    if phone:
        attrs["phone_number"] = phone
    if sub.first_name:
        attrs["first_name"] = sub.first_name
    if sub.locale and LOCALE.match(sub.locale):
        attrs["locale"] = sub.locale.replace("_", "-")
    if sub.shopify_customer_id:
        attrs["external_id"] = str(sub.shopify_customer_id)
    attrs["properties"] = _last_request_properties(sub)
    return attrs


def is_historical(sub: Subscription, *, now: datetime | None = None,
                  after: timedelta | None = None) -> bool:
    """Consent given well before this sync (e.g. while Klaviyo was disconnected). A caller
    deciding for many rows passes `now` and `after` (`historical_after()`) once."""
    given = sub.consented_at or sub.sms_consented_at or sub.created_at
    return given is not None and (now or timezone.now()) - given > (after or historical_after())


def consent_entries(
    sub: Subscription, *, historical: bool, phone_issue: str = ""
) -> list[dict[str, Any]]:
    """Bulk-subscribe profile entries for the channels the shopper consented to, else [].

    Each channel only on its own consent: email marketing for `marketing_consent` with an
    email, SMS marketing for `sms_consent` with a phone — never one for the other, and nothing
    once the shopper unsubscribed from marketing (`marketing_withdrawn_at`). Klaviyo accepts
    `consented_at` only on historical imports, so a fresh signup lets Klaviyo stamp the consent
    now (and run the list's opt-in process), while consent we are only now catching up on is
    sent as historical with the moment the shopper actually agreed to that channel. When the
    phone belongs to another Klaviyo profile (`phone_issue="conflict"`) email and SMS consent
    go as two entries so each lands on the profile that owns that identifier; an invalid phone
    gets no SMS consent at all.
    """
    if sub.marketing_withdrawn_at is not None or sub.status not in (
        Subscription.Status.ACTIVE, Subscription.Status.NOTIFIED
    ):
        return []

    def channel(given: datetime | None) -> dict[str, Any]:
        value: dict[str, Any] = {"consent": "SUBSCRIBED"}
        if historical:
            value["consented_at"] = (given or sub.created_at).isoformat()
        return {"marketing": value}

    email = sub.email if sub.marketing_consent else ""
    phone = "" if phone_issue == "invalid" or not sub.sms_consent else phone_for(sub)
    if email and phone and phone_issue != "conflict":
        return [{"email": email, "phone_number": phone,
                 "subscriptions": {"email": channel(sub.consented_at),
                                   "sms": channel(sub.sms_consented_at)}}]
    email_part = ({"email": email, "subscriptions": {"email": channel(sub.consented_at)}}
                  if email else None)
    sms_part = ({"phone_number": phone, "subscriptions": {"sms": channel(sub.sms_consented_at)}}
                if phone else None)
    return [part for part in (email_part, sms_part) if part]


def unsubscribe_entries(*, email: str, phone: str) -> list[dict[str, Any]]:
    """Bulk-unsubscribe entries (email/phone only, no ids: Klaviyo's rule)."""
    out: list[dict[str, Any]] = []
    unsubscribed = {"marketing": {"consent": "UNSUBSCRIBED"}}
    if email:
        out.append({"email": email, "subscriptions": {"email": unsubscribed}})
    if phone:
        out.append({"phone_number": phone, "subscriptions": {"sms": unsubscribed}})
    return out


def event_identity(sub: Subscription, *, drop_phone: bool = False) -> dict[str, Any]:
    """The event's profile block: one identifier (email first), so it can never conflict."""
    if sub.email:
        return {"email": sub.email}
    phone = phone_for(sub, drop_phone=drop_phone)
    return {"phone_number": phone} if phone else {}


def subscribed_unique_id(subscription_id: int) -> str:
    return f"notifyme:subscribed:{subscription_id}"


def subscribed_event(sub: Subscription, *, drop_phone: bool = False) -> BulkEvent:
    """The "Subscribed to Back in Stock" event, timed at the signup, with a fixed unique_id and
    the shopper's own `cancel_alert_url` (withdraw this request; not a marketing unsubscribe)
    for the merchant's confirmation email."""
    return BulkEvent(
        metric=SUBSCRIBED_METRIC,
        profile=event_identity(sub, drop_phone=drop_phone),
        properties=product_properties(sub),
        unique_id=subscribed_unique_id(sub.pk),
        time_iso=sub.created_at.isoformat(),
        own_properties={"cancel_alert_url": storefront_unsubscribe_url(subscription=sub)},
    )
