"""Erasing one shopper's rows at one shop (`customers/redact`), inside the caller's transaction.

What goes: the shopper's subscriptions (and with them, by cascade, their consent fields, outbox
rows and restock deliveries — a pending delivery is first counted as skipped on its restock, so
the restock's progress still adds up), the Klaviyo call log rows (`SyncAttempt`) about those
subscriptions, any other call-log detail or error text of the shop that quotes the email or
phone, and the shopper's recovered-revenue orders (`notifyme.revenue`: by customer id, email or
phone digest, or the order ids Shopify lists in `orders_to_redact`). What is returned: the
counts per kind and the Klaviyo profile ids the rows recorded (for the Klaviyo erasure job).
Redis keys are removed by the caller after the commit (Redis is not part of the transaction):
`subscriptions.abuse.subscribe_contact_forget`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Q

from integrations.klaviyo.models import SyncAttempt, SyncAttemptSubscription
from notifyme.privacy.subjects import Subject, subject_subscriptions
from notifyme.restocks import batches
from notifyme.restocks.models import RestockDelivery
from notifyme.revenue.services import orders_erase_for_shopper
from notifyme.shops.models import Shop
from notifyme.sync.models import OutboxItem

ERASED_TEXT = "[erased: privacy request]"


@dataclass
class Erased:
    counts: dict[str, int] = field(default_factory=dict)
    profile_ids: list[str] = field(default_factory=list)

    @property
    def found_any(self) -> bool:
        return bool(self.counts.get("subscriptions"))


def _quoting(subject: Subject, column: str) -> Q:
    """Rows whose `column` quotes the email or phone."""
    match = Q(pk__in=[])
    for contact in subject.contacts:
        match |= Q(**{f"{column}__icontains": contact})
    return match


def shopper_erase(*, shop: Shop, subject: Subject, order_ids: list[int] | None = None) -> Erased:
    """Delete the subject's rows at `shop` (see module docstring); call inside a transaction.
    `order_ids`: Shopify's `orders_to_redact` (their recovered-revenue rows go too)."""
    subs = list(subject_subscriptions(shop=shop, subject=subject).select_for_update()
                .values_list("id", "klaviyo_profile_id", "marketing_consent", "sms_consent"))
    ids = [pk for pk, *_ in subs]
    erased = Erased(profile_ids=sorted({pid for _, pid, *_ in subs if pid}))
    pending = Counter(RestockDelivery.objects.filter(
        subscription_id__in=ids, state=RestockDelivery.State.PENDING)
        .values_list("restock_id", flat=True))
    for restock_id, skipped in pending.items():
        batches.restock_count(restock_id=restock_id, skipped=skipped)
    erased.counts = {
        "subscriptions": len(ids),
        "consent_records": sum(int(email) + int(sms) for *_, email, sms in subs),
        "restock_deliveries": RestockDelivery.objects.filter(subscription_id__in=ids).count(),
        "outbox_items": OutboxItem.objects.filter(subscription_id__in=ids).count(),
        "sync_attempts": SyncAttempt.objects.filter(shop=shop, subscription_id__in=ids)
        .delete()[0],
        "recovered_orders": orders_erase_for_shopper(
            shop=shop, customer_id=subject.customer_id, email=subject.email,
            phone=subject.phone, order_ids=order_ids),
    }
    # Batch calls that carried them stay (they carried others too); the links to them go.
    SyncAttemptSubscription.objects.filter(subscription_id__in=ids).delete()
    if ids:
        shop.subscriptions.filter(pk__in=ids).delete()
    if subject.contacts:
        erased.counts["sync_attempts"] += SyncAttempt.objects.filter(
            _quoting(subject, "error_detail"), shop=shop).update(error_detail=ERASED_TEXT)
        SyncAttempt.objects.filter(_quoting(subject, "request_summary"), shop=shop).update(
            request_summary=ERASED_TEXT)
        erased.counts["outbox_items"] += OutboxItem.objects.filter(
            _quoting(subject, "last_error"), shop=shop).update(last_error=ERASED_TEXT)
    return erased
