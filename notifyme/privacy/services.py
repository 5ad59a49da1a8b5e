"""Shopify's three mandatory privacy webhooks, as services (the webhook handlers are thin calls
into these; docs/privacy.md says what each does and what the merchant sees).

All three are idempotent: Shopify redelivers, and a redelivery lands on the request's one audit
row (`ComplianceRequest`, unique per shop + topic + subject + request id) with `deliveries`
counted up and nothing erased twice (what is gone is gone; a new row of the shopper written in
between is erased too). Each returns a one-line outcome for support — without personal data.
No Klaviyo call happens here: a `customers/redact` records a `KlaviyoErasure` work row in the
same transaction and its job (`erasure.erasure_run`) calls Klaviyo, so an outage retries.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.klaviyo.models import KlaviyoConnection
from notifyme.privacy import erasure, reports, shop_erasing
from notifyme.privacy.erasing import shopper_erase
from notifyme.privacy.models import ComplianceRequest, KlaviyoErasure
from notifyme.privacy.subjects import (
    Subject,
    subject_decrypt,
    subject_digest,
    subject_encrypt,
    subject_from_payload,
)
from notifyme.shops.models import Shop
from notifyme.subscriptions import abuse

logger = logging.getLogger(__name__)
Topic = ComplianceRequest.Topic
Outcome = ComplianceRequest.KlaviyoOutcome
#: Shopify expects the data within 30 days; the stored subject of a data request goes then.
DATA_REQUEST_DAYS = 30


def _domain(shop: Shop | None, payload: dict[str, Any]) -> str:
    return shop.domain if shop is not None else str(payload.get("shop_domain") or "")[:255]


def _audit(*, domain: str, shop: Shop | None, topic: str, digest: str = "",
           request_id: str = "") -> tuple[ComplianceRequest, bool]:
    """The request's audit row, locked; created (True) or a redelivery (False, counted)."""
    row, created = ComplianceRequest.objects.select_for_update().get_or_create(
        shop_domain=domain, topic=topic, subject_digest=digest, shopify_request_id=request_id,
        defaults={"shop": shop})
    if not created:
        row.deliveries += 1
        row.save(update_fields=["deliveries"])
    return row, created


def _request_id(payload: dict[str, Any]) -> str:
    data_request = payload.get("data_request")
    value = data_request.get("id") if isinstance(data_request, dict) else None
    return str(value)[:64] if value not in (None, "") else ""


@transaction.atomic
def customer_data_request(*, shop: Shop | None, payload: dict[str, Any]) -> str:
    """`customers/data_request`: the merchant gets a report of what the app holds on the
    shopper, in the app's privacy panel (JSON API + CSV/JSON export).

    The report is never stored: it is built from the live rows each time the merchant opens
    it (`reports.data_request_report`), so it can never outlive the data it describes. The
    audit row keeps the counts found at receipt and, encrypted, the subject to build the
    report from — until the merchant marks it provided, 30 days pass, or the shopper or the
    shop is redacted."""
    domain = _domain(shop, payload)
    region = shop.country_code if shop else "US"
    subject = subject_from_payload(payload, region=region)
    row, created = _audit(domain=domain, shop=shop, topic=Topic.DATA_REQUEST,
                          digest=subject_digest(shop_domain=domain, subject=subject),
                          request_id=_request_id(payload))
    if not created:
        return f"data request #{row.pk}: redelivery ({row.deliveries}), nothing new"
    row.counts = reports.report_counts(shop=shop, subject=subject) if shop else {}
    if shop is not None and any(row.counts.values()):
        row.subject_encrypted = subject_encrypt(shop_domain=domain, subject=subject)
        row.subject_expires_at = timezone.now() + timedelta(days=DATA_REQUEST_DAYS)
        row.state = ComplianceRequest.State.OPEN
    else:  # nothing held: nothing to report, the request is answered
        row.state, row.completed_at = ComplianceRequest.State.COMPLETED, timezone.now()
    row.save()
    found = row.counts.get("subscriptions", 0)
    return f"data request #{row.pk}: {found} subscriptions found; report in the privacy panel"


def _wipe_open_reports(*, shop: Shop, subject: Subject) -> int:
    """Forget the stored subject of this shopper's open data requests (the report's data is
    being erased, so the report goes too)."""
    wiped = 0
    open_rows = ComplianceRequest.objects.select_for_update().filter(
        shop=shop, topic=Topic.DATA_REQUEST).exclude(subject_encrypted="")
    for row in open_rows:
        held = subject_decrypt(shop_domain=row.shop_domain, token=row.subject_encrypted)
        same = ((held.customer_id is not None and held.customer_id == subject.customer_id)
                or set(held.contacts) & set(subject.contacts))
        if same:
            reports.report_close(request=row, note="The shopper's data was erased (redact).")
            wiped += 1
    return wiped


def _orders_to_redact(payload: dict[str, Any]) -> list[int]:
    """Shopify's `orders_to_redact` ids (anything that is not an id is skipped)."""
    ids = payload.get("orders_to_redact")
    if not isinstance(ids, list):
        return []
    return [int(i) for i in ids if isinstance(i, int | str) and not isinstance(i, bool)
            and str(i).isdigit()]


@transaction.atomic
def customer_redact(*, shop: Shop | None, payload: dict[str, Any]) -> str:
    """`customers/redact`: erase the shopper's subscriptions and personal data at this shop,
    matched by customer id, email and phone (`erasing.shopper_erase`), the Redis rate-limit
    counters of their email/phone (after commit), and their open data-request reports; then
    Klaviyo, through a `KlaviyoErasure` job: deletion through the data-privacy API when the
    key has `data-privacy:write`, else unsubscribe + off the list, and the merchant is told
    what remains (`merchant_notice`)."""
    domain = _domain(shop, payload)
    subject = subject_from_payload(payload, region=shop.country_code if shop else "US")
    row, created = _audit(domain=domain, shop=shop, topic=Topic.CUSTOMER_REDACT,
                          digest=subject_digest(shop_domain=domain, subject=subject))
    if shop is None:
        row.state, row.completed_at = ComplianceRequest.State.COMPLETED, timezone.now()
        row.save()
        return f"customer redact #{row.pk}: shop unknown (already erased), nothing held"
    erased = shopper_erase(shop=shop, subject=subject, order_ids=_orders_to_redact(payload))
    erased.counts["data_request_reports"] = _wipe_open_reports(shop=shop, subject=subject)
    counts = dict(row.counts) if not created else {}
    for name, value in erased.counts.items():
        counts[name] = counts.get(name, 0) + value
    row.counts = counts
    if erased.found_any:
        _klaviyo_erasure(row=row, shop=shop, subject=subject, profile_ids=erased.profile_ids)
    elif created:
        row.klaviyo_outcome = Outcome.NOTHING_SENT
    if not KlaviyoErasure.objects.filter(request=row, state=KlaviyoErasure.State.PENDING).exists():
        row.state = ComplianceRequest.State.COMPLETED
        row.completed_at = row.completed_at or timezone.now()
    row.save()
    transaction.on_commit(lambda: _forget_redis(row.pk, shop.pk, subject))
    return (f"customer redact #{row.pk}: {erased.counts['subscriptions']} subscriptions erased; "
            f"Klaviyo: {row.klaviyo_outcome or 'nothing to do'}")


def _klaviyo_erasure(*, row: ComplianceRequest, shop: Shop, subject: Subject,
                     profile_ids: list[str]) -> None:
    connection = KlaviyoConnection.objects.filter(shop=shop).first()
    if connection is None or not connection.has_key:
        row.klaviyo_outcome = Outcome.NOT_CONNECTED
        row.merchant_notice = erasure.NOT_CONNECTED_NOTICE
        return
    item = KlaviyoErasure.objects.create(
        request=row, shop=shop, profile_ids=profile_ids,
        contact_encrypted=erasure.contact_encrypt(shop=shop, subject=subject))
    row.state = ComplianceRequest.State.KLAVIYO_PENDING
    row.klaviyo_outcome = Outcome.PENDING
    transaction.on_commit(lambda: erasure.erasure_nudge(erasure_id=item.pk))


def _forget_redis(request_id: int, shop_id: int, subject: Subject) -> None:
    try:
        keys = abuse.subscribe_contact_forget(shop_id=shop_id, contacts=subject.contacts)
    except Exception:  # Redis down: the counters expire within their window anyway
        logger.warning("customer redact #%s: Redis counters not cleared (they expire)",
                       request_id)
        return
    if keys:
        row = ComplianceRequest.objects.get(pk=request_id)
        row.counts = {**row.counts, "redis_keys": row.counts.get("redis_keys", 0) + keys}
        row.save(update_fields=["counts"])


@transaction.atomic
def shop_redact(*, shop_domain: str, payload: dict[str, Any]) -> str:
    """`shop/redact` (48 h after uninstall): erase everything of the shop — subscriptions,
    catalog, restocks, sync rows, Klaviyo connection (the encrypted key), tokens, the Shop row
    itself — keeping only the audit rows (`shop_erasing.shop_erase`). No Klaviyo call: the
    merchant's Klaviyo account is theirs. A shop already gone: the audit row, nothing else."""
    domain = str(shop_domain or payload.get("shop_domain") or "")[:255]
    shop = Shop.objects.select_for_update().filter(domain=domain).first()
    row, _ = _audit(domain=domain, shop=shop, topic=Topic.SHOP_REDACT)
    if shop is None:
        row.completed_at = row.completed_at or timezone.now()
        row.state = ComplianceRequest.State.COMPLETED
        row.save()
        return f"shop redact #{row.pk}: nothing held for this shop"
    counts = shop_erasing.shop_erase(shop=shop)
    row.shop = None  # the audit row stays; the shop it named is gone
    row.counts = {name: row.counts.get(name, 0) + n for name, n in counts.items()}
    row.state, row.completed_at = ComplianceRequest.State.COMPLETED, timezone.now()
    row.save()
    return f"shop redact #{row.pk}: {sum(counts.values())} rows erased"


def data_request_provided(*, request: ComplianceRequest) -> None:
    """The merchant gave the shopper their report: forget its subject (the audit row stays)."""
    with transaction.atomic():
        ComplianceRequest.objects.filter(pk=request.pk).update(provided_at=timezone.now())
        reports.report_close(request=request, note="")
    request.provided_at = timezone.now()
