"""Support's shopper search: one box for an email, a phone number, a Shopify customer id or a
Klaviyo profile id, across every shop.

The query is normalised the way the app stores each identifier — an email through
`emails.email_normalize` (so `Ada@EXAMPLE.com` finds `ada@example.com`), a phone to E.164 —
and compared for equality only, so every lookup is a probe of one of the partial indexes on
`Subscription` (`subscription_by_email`, `_phone`, `_customer`, `_profile`). A string of digits
may be a customer id or a phone number: both are looked up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from django.db.models import Q

from notifyme.subscriptions.emails import EmailInvalid, email_normalize
from notifyme.subscriptions.models import Subscription

MAX_QUERY = 320
#: Results shown at most (a shopper with more alerts than this is shown in part, said so).
LIMIT = 100
BIGINT_MAX = 2**63 - 1
CUSTOMER_GID = re.compile(r"gid://shopify/Customer/(\d{1,19})")
PHONE_CHARS = re.compile(r"\+?[\d\s().-]{6,32}")
PROFILE_ID = re.compile(r"[A-Za-z0-9]{6,64}")
HELP = "Enter an email, a phone number, a Shopify customer id or a Klaviyo profile id."


class QueryInvalid(ValueError):
    """`str(error)` says what is wrong with `q`, for the search page."""


@dataclass(frozen=True)
class Lookup:
    """What a query is compared with: each identifier it may be (empty ones unused)."""

    email: str = ""
    phone: str = ""
    customer_id: int | None = None
    profile_id: str = ""

    @property
    def kinds(self) -> list[str]:
        names = [("email", self.email), ("phone", self.phone),
                 ("Shopify customer id", self.customer_id), ("Klaviyo profile id",
                                                             self.profile_id)]
        return [name for name, value in names if value]

    def condition(self) -> Q:
        match = Q(pk__in=[])
        if self.email:
            match |= Q(email=self.email)
        if self.phone:
            match |= Q(phone=self.phone)
        if self.customer_id is not None:
            match |= Q(shopify_customer_id=self.customer_id)
        if self.profile_id:
            match |= Q(klaviyo_profile_id=self.profile_id)
        return match


@dataclass
class SearchResult:
    lookup: Lookup
    subscriptions: list[Subscription] = field(default_factory=list)
    truncated: bool = False


def _phone(text: str) -> str:
    """E.164 for a phone-looking text ("" when it is not a valid number): as typed, else with
    a leading + (a number pasted without it), else as a US number."""
    digits = re.sub(r"[\s().-]", "", text)
    for candidate, region in ((digits, None), ("+" + digits.lstrip("+"), None), (digits, "US")):
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return ""


def query_parse(raw: object) -> Lookup:
    """The identifiers `raw` may name; raise QueryInvalid when it names none."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise QueryInvalid(HELP)
    if len(text) > MAX_QUERY:
        raise QueryInvalid(f"The search is at most {MAX_QUERY} characters. {HELP}")
    if "@" in text:
        try:
            return Lookup(email=email_normalize(text))
        except EmailInvalid as error:
            raise QueryInvalid(f"Not a valid email address: {error}") from None
    gid = CUSTOMER_GID.fullmatch(text)
    if gid:
        return _customer(gid.group(1))
    if text.isdigit():
        customer = _customer(text) if len(text) <= 19 else Lookup()
        return Lookup(phone=_phone(text), customer_id=customer.customer_id)
    if PHONE_CHARS.fullmatch(text):
        phone = _phone(text)
        if phone:
            return Lookup(phone=phone)
        raise QueryInvalid(f"Not a valid phone number. {HELP}")
    if PROFILE_ID.fullmatch(text):
        return Lookup(profile_id=text)
    raise QueryInvalid(f"Not an email, phone number, customer id or profile id. {HELP}")


def _customer(digits: str) -> Lookup:
    value = int(digits)
    return Lookup(customer_id=value if 0 < value <= BIGINT_MAX else None)


def shoppers_search(*, q: object, limit: int = LIMIT) -> SearchResult:
    """Subscriptions matching `q` in any shop, newest first (at most `limit`); raises
    QueryInvalid. One indexed query (the identifiers OR-ed: a bitmap of index probes)."""
    lookup = query_parse(q)
    if not lookup.kinds:
        raise QueryInvalid(f"Not a valid phone number or customer id. {HELP}")
    rows = list(Subscription.objects.filter(lookup.condition())
                .select_related("shop", "variant__product")
                .order_by("-created_at", "-id")[:limit + 1])
    return SearchResult(lookup, rows[:limit], truncated=len(rows) > limit)
