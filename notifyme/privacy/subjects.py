"""Who a customer privacy request is about: Shopify's `customer` block, normalised the way the
app stores contacts, and the rows of one shop that name that shopper.

Shopify sends `customer: {id, email, phone}`; any of them may be null or empty, and sometimes
only the email is meaningful (shopify-platform.md §4), so a subscription matches when ANY of the
three matches: the customer id (`shopify_customer_id`), the email normalised like the storefront
form stores it (`emails.email_normalize`; an address it cannot normalise is lower-cased and
trimmed, the form the data migration kept for such rows) or the phone in E.164 (parsed with the
shop's country as the hint, like the form). Always within one shop: another shop's shopper with
the same email is another person's data, and is never touched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.conf import settings
from django.db.models import Q, QuerySet

from notifyme.core import crypto
from notifyme.shops.models import Shop
from notifyme.subscriptions.emails import email_normalize_or_keep
from notifyme.subscriptions.models import Subscription

SUBJECT_PURPOSE = "privacy_subject"


class PayloadError(ValueError):
    """The request names no shopper we could match; `field` is the payload field to blame."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Subject:
    customer_id: int | None
    email: str
    phone: str

    @property
    def contacts(self) -> list[str]:
        return [c for c in (self.email, self.phone) if c]

    def as_json(self) -> str:
        return json.dumps({"customer_id": self.customer_id, "email": self.email,
                           "phone": self.phone})

    @classmethod
    def from_json(cls, text: str) -> Subject:
        data = json.loads(text)
        return cls(data.get("customer_id"), data.get("email") or "", data.get("phone") or "")


def _phone(value: Any, region: str) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region or "US")
    except phonenumbers.NumberParseException:
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _customer_id(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value).rsplit("/", 1)[-1])  # a bare id or a gid://shopify/Customer/<id>
    except ValueError:
        raise PayloadError("customer.id", "must be a Shopify customer id") from None


def subject_from_payload(payload: dict[str, Any], *, region: str = "US") -> Subject:
    """The normalised subject of a `customers/*` payload; PayloadError when it names nobody."""
    customer = payload.get("customer")
    if not isinstance(customer, dict):
        raise PayloadError("customer", "must be an object with id, email or phone")
    email_raw = customer.get("email")
    email = email_normalize_or_keep(str(email_raw)) if email_raw else ""
    subject = Subject(_customer_id(customer.get("id")), email,
                      _phone(customer.get("phone"), region))
    if subject.customer_id is None and not subject.contacts:
        raise PayloadError("customer", "names no customer id, email or phone")
    return subject


def _key() -> bytes:
    return hashlib.sha256(f"notifyme-privacy-subject:{settings.SECRET_KEY}".encode()).digest()


def subject_digest(*, shop_domain: str, subject: Subject) -> str:
    """A keyed, non-reversible name for the subject at one shop: the customer id when Shopify
    sent one (stable across a changed email), else the email, else the phone."""
    if subject.customer_id is not None:
        name = f"customer:{subject.customer_id}"
    else:
        name = f"email:{subject.email}" if subject.email else f"phone:{subject.phone}"
    return hmac.new(_key(), f"{shop_domain}|{name}".encode(), hashlib.sha256).hexdigest()


def subject_encrypt(*, shop_domain: str, subject: Subject) -> str:
    return crypto.encrypt(subject.as_json(), context=f"shop:{shop_domain}:{SUBJECT_PURPOSE}")


def subject_decrypt(*, shop_domain: str, token: str) -> Subject:
    return Subject.from_json(
        crypto.decrypt(token, context=f"shop:{shop_domain}:{SUBJECT_PURPOSE}"))


def subject_match(subject: Subject) -> Q:
    """A Subscription filter for every row naming the subject (any identifier)."""
    match = Q(pk__in=[])
    if subject.customer_id is not None:
        match |= Q(shopify_customer_id=subject.customer_id)
    if subject.email:
        match |= Q(email=subject.email)
    if subject.phone:
        match |= Q(phone=subject.phone)
    return match


def subject_subscriptions(*, shop: Shop, subject: Subject) -> QuerySet[Subscription]:
    """The shop's subscriptions naming the subject, oldest first."""
    return Subscription.objects.filter(subject_match(subject), shop=shop).order_by("id")
