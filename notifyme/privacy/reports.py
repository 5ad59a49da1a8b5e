"""The customer data report (`customers/data_request`), built from the live rows when the
merchant opens or exports it — never stored, so it cannot outlive the data it describes.

`data_request_report` returns a JSON-ready dict: per subscription what the shopper gave (email
as typed and normalised, phone, first name, locale, customer id), the alert (product, variant,
status and its dates), consent per channel (given, wording version, when, withdrawn), what went
to Klaviyo (sync state, profile id), the restock alerts sent for it and the Klaviyo calls that
carried it; and the shopper's orders counted as recovered revenue (ids, time, lines).
`report_csv` is the same as rows of (record, id, field, value).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from integrations.klaviyo.models import SyncAttempt, SyncAttemptSubscription
from notifyme.core.spreadsheet import cell_guard
from notifyme.privacy.models import ComplianceRequest
from notifyme.privacy.subjects import Subject, subject_decrypt, subject_subscriptions
from notifyme.restocks.models import RestockDelivery
from notifyme.revenue.contacts import shopper_orders
from notifyme.revenue.models import RecoveredOrder
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.sync.models import OutboxItem

SUBSCRIPTION_FIELDS = (
    "email", "email_display", "phone", "first_name", "locale", "shopify_customer_id",
    "source", "status", "quantity_wanted", "created_at", "notified_at", "unsubscribed_at",
    "marketing_consent", "consent_text_version", "consented_at", "sms_consent",
    "sms_consent_text_version", "sms_consented_at", "marketing_withdrawn_at",
    "sync_state", "synced_at", "klaviyo_profile_id",
)


class ReportUnavailable(Exception):
    """The report can no longer be built (provided, expired, or the shopper was erased)."""


def _value(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def report_counts(*, shop: Shop, subject: Subject) -> dict[str, int]:
    """How many rows of each kind name the subject (the audit keeps these numbers only)."""
    subs = subject_subscriptions(shop=shop, subject=subject)
    ids = list(subs.values_list("id", flat=True))
    return {
        "subscriptions": len(ids),
        "consent_records": subs.filter(marketing_consent=True).count()
        + subs.filter(sms_consent=True).count(),
        "restock_deliveries": RestockDelivery.objects.filter(subscription_id__in=ids).count(),
        "outbox_items": OutboxItem.objects.filter(subscription_id__in=ids).count(),
        "sync_attempts": _attempts_carrying(shop, ids).count(),
        "recovered_orders": _orders(shop=shop, subject=subject).count(),
    }


def _attempts_carrying(shop: Shop, ids: list[int]) -> QuerySet[SyncAttempt]:
    """The shop's Klaviyo calls that carried any of `ids` (batch calls included)."""
    carried = SyncAttemptSubscription.objects.filter(subscription_id__in=ids)
    return SyncAttempt.objects.filter(
        Q(subscription_id__in=ids) | Q(pk__in=carried.values("attempt_id")), shop=shop)


def _orders(*, shop: Shop, subject: Subject) -> QuerySet[RecoveredOrder]:
    return shopper_orders(shop=shop, customer_id=subject.customer_id, email=subject.email,
                          phone=subject.phone)


def _order_entries(*, shop: Shop, subject: Subject) -> list[dict[str, Any]]:
    """The shopper's orders counted as recovered revenue: ids, time, channel and lines."""
    return [{"order_id": o.shopify_id, "ordered_at": _value(o.ordered_at), "channel": o.channel,
             "currency": o.currency,
             "lines": [{"variant_id": line.variant_shopify_id, "quantity": line.quantity,
                        "amount": str(line.amount), "restock": line.restock_id}
                       for line in sorted(o.lines.all(), key=lambda line: line.pk)]}
            for o in _orders(shop=shop, subject=subject).prefetch_related("lines")]


def _subscription(sub: Subscription, deliveries: list[dict[str, Any]],
                  attempts: list[dict[str, Any]]) -> dict[str, Any]:
    entry = {name: _value(getattr(sub, name)) for name in SUBSCRIPTION_FIELDS}
    entry.update(id=sub.pk, product=sub.variant.product.title, variant=sub.variant.title,
                 restock_alerts=deliveries, klaviyo_calls=attempts)
    return entry


def shopper_report(*, shop: Shop, subject: Subject) -> dict[str, Any]:
    """What the app holds on the subject at `shop`, from the live rows."""
    subs = list(subject_subscriptions(shop=shop, subject=subject)
                .select_related("variant__product"))
    ids = [s.pk for s in subs]
    deliveries: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for d in RestockDelivery.objects.filter(subscription_id__in=ids).order_by("id"):
        deliveries[d.subscription_id].append({"restock": d.restock_id, "state": d.state,
                                              "sent_at": _value(d.sent_at)})
    attempts: dict[int, list[dict[str, Any]]] = defaultdict(list)
    carried: dict[int, set[int]] = defaultdict(set)
    for attempt_id, sub_id in SyncAttemptSubscription.objects.filter(
            subscription_id__in=ids).values_list("attempt_id", "subscription_id"):
        carried[attempt_id].add(sub_id)
    for a in _attempts_carrying(shop, ids).order_by("id"):
        owners = carried[a.pk] | ({a.subscription_id} if a.subscription_id in ids else set())
        for sub_id in sorted(owners):
            attempts[sub_id].append({
                "operation": a.operation, "status": a.status_code, "at": _value(a.created_at),
                "error": a.error_detail})
    return {
        "shop": shop.domain,
        "generated_at": timezone.now().isoformat(),
        "subject": {"customer_id": subject.customer_id, "email": subject.email,
                    "phone": subject.phone},
        "subscriptions": [_subscription(s, deliveries[s.pk], attempts[s.pk]) for s in subs],
        "recovered_orders": _order_entries(shop=shop, subject=subject),
    }


def data_request_report(*, request: ComplianceRequest) -> dict[str, Any]:
    """The report of an open data request; ReportUnavailable once its subject is gone."""
    if request.shop is None or not request.subject_encrypted:
        raise ReportUnavailable("This report is no longer available.")
    if request.subject_expires_at and request.subject_expires_at <= timezone.now():
        report_close(request=request, note="Expired after 30 days.")
        raise ReportUnavailable("This report expired (30 days after Shopify's request).")
    subject = subject_decrypt(shop_domain=request.shop_domain, token=request.subject_encrypted)
    report = shopper_report(shop=request.shop, subject=subject)
    report["request"] = {"id": request.pk, "shopify_request_id": request.shopify_request_id,
                         "received_at": request.received_at.isoformat()}
    return report


class _GuardedWriter:
    """csv.writer whose every cell is spreadsheet-safe: the report holds shopper input and
    Shopify's product titles, which may start like a formula (notifyme/core/spreadsheet.py)."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, cells: list[Any]) -> None:
        self._writer.writerow([cell_guard(cell) for cell in cells])


def report_csv(report: dict[str, Any]) -> str:
    """The report as CSV: one line per (record, id, field, value)."""
    out = io.StringIO()
    writer = _GuardedWriter(out)
    writer.writerow(["record", "id", "field", "value"])
    for name, value in report["subject"].items():
        writer.writerow(["request", report["request"]["id"], name, value])
    for sub in report["subscriptions"]:
        for name, value in sub.items():
            if name in ("restock_alerts", "klaviyo_calls"):
                for n, item in enumerate(value, 1):
                    for key, inner in item.items():
                        writer.writerow([f"subscription.{name}", sub["id"], f"{n}.{key}", inner])
            elif name != "id":
                writer.writerow(["subscription", sub["id"], name, value])
    _order_rows(writer, report.get("recovered_orders", []))
    return out.getvalue()


def _order_rows(writer: Any, orders: list[dict[str, Any]]) -> None:
    for order in orders:
        for name, value in order.items():
            if name == "lines":
                for n, line in enumerate(value, 1):
                    for key, inner in line.items():
                        writer.writerow(["recovered_order.line", order["order_id"],
                                         f"{n}.{key}", inner])
            elif name != "order_id":
                writer.writerow(["recovered_order", order["order_id"], name, value])


def report_close(*, request: ComplianceRequest, note: str = "") -> None:
    """Forget the report's subject (the merchant provided it, it expired, or the shopper was
    erased): the audit row stays, the report can no longer be built."""
    now = timezone.now()
    ComplianceRequest.objects.filter(pk=request.pk).update(
        subject_encrypted="", subject_expires_at=None, state=ComplianceRequest.State.COMPLETED,
        completed_at=request.completed_at or now, merchant_notice=note)
    request.subject_encrypted, request.subject_expires_at = "", None
    request.state = ComplianceRequest.State.COMPLETED
    request.completed_at = request.completed_at or now
    request.merchant_notice = note
