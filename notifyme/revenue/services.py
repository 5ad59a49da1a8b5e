"""Recovered revenue writes: an order attributed to the alerts it followed, the merchant's
window, and the erasure of a shopper's orders (privacy).

Attribution (`order_record`), the contract:
- An order line counts when its variant had a "Back in Stock" alert SENT to this shopper at
  this shop (a `RestockDelivery` in state sent) before the order's `created_at` (Shopify's
  whole second: an alert sent within that second counts as before), within
  `MAX_WINDOW_DAYS`; the merchant's window (default 7 days) is applied when reading
  (`selectors`), so it can change afterwards.
- "This shopper": the alerted subscription's Shopify customer id, normalised email or E.164
  phone equals the order's (normalised the same way as the storefront form stores them).
- Several alerts for one line (the shopper subscribed by email and by phone, or the variant
  came back twice): the line goes to the alert whose restock the landing link names, else to
  the latest one. Each line is counted once, so each order is counted once.
- Channel: "direct" when the order's landing page carried the alert's UTM tag
  (`restocks.links`), otherwise "assisted".
- Revenue = the attributed lines' unit price x quantity (before order-level discounts,
  shipping and taxes; refunds and cancellations are not subtracted).
- A cancelled order does not count: `orders/cancelled` marks it (`order_cancel`), and an
  `orders/create` that already says cancelled stores nothing.
- Idempotent: a redelivered webhook (or another delivery of the same order) finds the order
  row and changes nothing. An order with no attributed line stores nothing.
"""

from __future__ import annotations

import operator
from datetime import datetime, timedelta
from decimal import Decimal
from functools import reduce
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from notifyme.restocks.links import alert_link_parse
from notifyme.restocks.models import RestockDelivery
from notifyme.revenue.contacts import contact_digest, shopper_orders
from notifyme.revenue.models import (
    MAX_WINDOW_DAYS,
    AttributionSettings,
    RecoveredLine,
    RecoveredOrder,
)
from notifyme.revenue.orders import (
    OrderFacts,
    OrderLine,
    order_facts_cancelled_at,
    order_facts_from_payload,
    order_id_from_payload,
)
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription

#: Shopify's order times have whole seconds: an alert sent within the order's second came first.
SHOPIFY_CLOCK_STEP = timedelta(seconds=1)


class WindowInvalid(ValueError):
    """The attribution window is not a whole number of days in range (`str` says which)."""


def _shopper_match(facts: OrderFacts) -> Q | None:
    """Subscriptions naming the order's shopper by any identifier (None: it names none)."""
    parts = []
    if facts.customer_id is not None:
        parts.append(Q(shopify_customer_id=facts.customer_id))
    if facts.email:
        parts.append(Q(email=facts.email))
    if facts.phone:
        parts.append(Q(phone=facts.phone))
    return reduce(operator.or_, parts) if parts else None


class Alert(NamedTuple):
    delivery_id: int
    restock_id: int
    variant_id: int  # Shopify's
    sent_at: datetime


def _alerts(*, shop: Shop, facts: OrderFacts) -> dict[int, list[Alert]]:
    """Sent alerts of this shopper for the order's variants, by variant, within the look-back
    (two indexed queries: the shopper's subscriptions, then their sent deliveries)."""
    match = _shopper_match(facts)
    variant_ids = {line.variant_id for line in facts.lines}
    if match is None or not variant_ids:
        return {}
    subscriptions = list(Subscription.objects.filter(
        match, shop=shop, variant__shopify_id__in=variant_ids).values_list("id", flat=True))
    rows = RestockDelivery.objects.filter(
        subscription_id__in=subscriptions, state=RestockDelivery.State.SENT,
        restock__shop=shop, sent_at__lt=facts.created_at + SHOPIFY_CLOCK_STEP,
        sent_at__gt=facts.created_at - timedelta(days=MAX_WINDOW_DAYS),
    ).values_list("id", "restock_id", "restock__variant__shopify_id", "sent_at")
    found: dict[int, list[Alert]] = {}
    for delivery_id, restock_id, variant_id, sent_at in rows:
        assert sent_at is not None  # every sent delivery has its time
        alert = Alert(delivery_id, restock_id, variant_id, sent_at)
        found.setdefault(alert.variant_id, []).append(alert)
    return found


def _pick(alerts: list[Alert], restock_id: int | None) -> Alert:
    named = [alert for alert in alerts if alert.restock_id == restock_id]
    return max(named or alerts, key=lambda alert: (alert.sent_at, alert.delivery_id))


def _line(order: RecoveredOrder, line: OrderLine, alert: Alert) -> RecoveredLine:
    return RecoveredLine(order=order, restock_id=alert.restock_id,
                         delivery_id=alert.delivery_id, shopify_line_id=line.id,
                         variant_shopify_id=line.variant_id, quantity=line.quantity,
                         unit_price=line.unit_price, amount=line.amount,
                         notified_at=alert.sent_at)


@transaction.atomic
def order_record(*, shop: Shop, payload: dict[str, Any]) -> str:
    """Attribute one `orders/create` order (see module docstring); a one-line outcome for
    support, without personal data. `OrderPayloadError` when the payload cannot be read."""
    facts = order_facts_from_payload(payload, region=shop.country_code)
    if RecoveredOrder.objects.filter(shop=shop, shopify_id=facts.id).exists():
        return f"order {facts.id}: already counted"
    if facts.cancelled_at is not None:
        return f"order {facts.id}: cancelled, not counted"
    alerts = _alerts(shop=shop, facts=facts)
    link = alert_link_parse(facts.landing_site)
    chosen = [(line, _pick(alerts[line.variant_id], link.restock_id))
              for line in facts.lines if line.quantity and alerts.get(line.variant_id)]
    if not chosen:
        return f"order {facts.id}: no alerted variant of this shopper"
    channel = RecoveredOrder.Channel.DIRECT if link.direct else RecoveredOrder.Channel.ASSISTED
    try:
        with transaction.atomic():
            order = RecoveredOrder.objects.create(
                shop=shop, shopify_id=facts.id, name=facts.name, ordered_at=facts.created_at,
                currency=facts.currency, channel=channel, customer_id=facts.customer_id,
                email_digest=contact_digest(shop_id=shop.pk, kind="email", value=facts.email),
                phone_digest=contact_digest(shop_id=shop.pk, kind="phone", value=facts.phone))
    except IntegrityError:  # a concurrent delivery of the same order got there first
        return f"order {facts.id}: already counted"
    lines = RecoveredLine.objects.bulk_create([_line(order, line, alert)
                                               for line, alert in chosen])
    total = sum((line.amount for line in lines), start=Decimal(0))
    return (f"order {facts.id}: {channel} recovered revenue, {len(lines)} line(s), "
            f"{total:.2f} {facts.currency}")


def order_cancel(*, shop: Shop, payload: dict[str, Any]) -> str:
    """`orders/cancelled`: a recovered order stops counting (idempotent; an order that was
    never counted has nothing to undo)."""
    order_id = order_id_from_payload(payload)
    order = RecoveredOrder.objects.filter(shop=shop, shopify_id=order_id).first()
    if order is None:
        return f"order {order_id}: not a recovered order, nothing to undo"
    if order.cancelled_at is not None:
        return f"order {order_id}: already cancelled"
    cancelled = order_facts_cancelled_at(payload) or timezone.now()
    RecoveredOrder.objects.filter(pk=order.pk).update(cancelled_at=cancelled)
    return f"order {order_id}: cancelled, no longer counted as recovered revenue"


def attribution_window_update(*, shop: Shop, window_days: int) -> AttributionSettings:
    """Set the shop's attribution window (1 to `MAX_WINDOW_DAYS` days); `WindowInvalid`."""
    if isinstance(window_days, bool) or not isinstance(window_days, int) \
            or not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise WindowInvalid(f"Enter a whole number of days from 1 to {MAX_WINDOW_DAYS}.")
    row, _ = AttributionSettings.objects.update_or_create(
        shop=shop, defaults={"window_days": window_days})
    return row


def orders_erase_for_shopper(*, shop: Shop, customer_id: int | None, email: str, phone: str,
                             order_ids: list[int] | None = None) -> int:
    """Delete the shop's recovered orders of one shopper (a `customers/redact`): by customer
    id, normalised email or phone (through their digests) or Shopify order id
    (`contacts.shopper_orders`). Returns how many orders went (their lines go with them)."""
    orders = shopper_orders(shop=shop, customer_id=customer_id, email=email, phone=phone,
                            order_ids=order_ids)
    return orders.delete()[1].get(RecoveredOrder._meta.label, 0)
