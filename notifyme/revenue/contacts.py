"""Keyed digests of a shopper's contact on a recovered order, and the filter that finds a
shopper's orders (for `customers/redact` and `customers/data_request`).

An order keeps its customer id and, instead of the email and phone, an HMAC of the normalised
value keyed by the app's `SECRET_KEY` and scoped to the shop: matching a privacy request is
possible, reading the contact back is not. (Rotating `SECRET_KEY` makes older digests
unmatchable; the customer id and the order ids of the request still match.)
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db.models import Q, QuerySet

from notifyme.revenue.models import RecoveredOrder
from notifyme.shops.models import Shop


def _key() -> bytes:
    return hashlib.sha256(f"notifyme-revenue-contact:{settings.SECRET_KEY}".encode()).digest()


def contact_digest(*, shop_id: int, kind: str, value: str) -> str:
    """The digest of a normalised email (`kind="email"`) or E.164 phone at one shop; "" for ""."""
    if not value:
        return ""
    return hmac.new(_key(), f"{shop_id}|{kind}|{value}".encode(), hashlib.sha256).hexdigest()


def shopper_orders(*, shop: Shop, customer_id: int | None, email: str, phone: str,
                   order_ids: list[int] | None = None) -> QuerySet[RecoveredOrder]:
    """The shop's recovered orders naming the shopper by any identifier (or by order id)."""
    match = Q(pk__in=[])
    if customer_id is not None:
        match |= Q(customer_id=customer_id)
    if email:
        match |= Q(email_digest=contact_digest(shop_id=shop.pk, kind="email", value=email))
    if phone:
        match |= Q(phone_digest=contact_digest(shop_id=shop.pk, kind="phone", value=phone))
    if order_ids:
        match |= Q(shopify_id__in=order_ids)
    return RecoveredOrder.objects.filter(match, shop=shop).order_by("ordered_at", "id")
