"""Reads for the merchant's Subscribers page: the filtered list, one page of it, the export.

Every read starts from `Subscription.objects.filter(shop=shop)`: the shop is the ID token's,
so no filter, cursor or id can reach another shop's rows. Pages are keyset-paginated newest
first on the id (`cursor` = the last id of the previous page), so page 500 costs what page 1
costs and rows signing up meanwhile never shift a page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.waitlists.csvfile import LineWriter
from notifyme.waitlists.models import WaitlistImport

EXPORT_CHUNK = 2_000
EXPORT_COLUMNS = (
    "email", "phone", "first_name", "product", "variant_title", "variant_id", "sku", "status",
    "sync_state", "sync_error", "marketing_consent", "sms_consent", "consent_text_version",
    "consented_at", "source", "created_at", "notified_at", "unsubscribed_at",
)
_EXPORT_FIELDS = (
    "email_display", "email", "phone", "first_name", "variant__product__title",
    "variant__title", "variant__shopify_id", "variant__sku", "status", "sync_state",
    "sync_error", "marketing_consent", "sms_consent", "consent_text_version", "consented_at",
    "source", "created_at", "notified_at", "unsubscribed_at",
)


@dataclass(frozen=True)
class SubscriberFilters:
    """What the merchant narrowed the list to (all optional; validated by the view)."""

    q: str = ""
    status: str = ""
    sync_state: str = ""
    variant_id: int | None = None  #: the Shopify variant id


def subscriber_queryset(*, shop: Shop, filters: SubscriberFilters) -> QuerySet[Subscription]:
    """The shop's subscriptions matching `filters` (search: email, phone, product, SKU)."""
    rows = Subscription.objects.filter(shop=shop)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.sync_state:
        rows = rows.filter(sync_state=filters.sync_state)
    if filters.variant_id is not None:
        rows = rows.filter(variant__shopify_id=filters.variant_id)
    q = filters.q
    if q:
        match = (Q(email__icontains=q) | Q(email_display__icontains=q)
                 | Q(variant__product__title__icontains=q) | Q(variant__sku__iexact=q)
                 | Q(first_name__icontains=q))
        # Phones are stored in E.164: "(415) 555-0100" and "07700 900123" (national, trunk
        # zero dropped) both match by their digits.
        digits = "".join(ch for ch in q if ch.isdigit()).lstrip("0")
        if len(digits) >= 3:
            match |= Q(phone__contains=digits)
        rows = rows.filter(match)
    return rows


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def subscriber_row(sub: Subscription) -> dict[str, Any]:
    """One subscriber as the page shows it (labels beside the machine values)."""
    variant = sub.variant
    return {
        "id": sub.pk,
        "email": sub.email_display or sub.email,
        "phone": sub.phone,
        "first_name": sub.first_name,
        "product": variant.product.title,
        "variant": variant.title,
        "variant_id": variant.shopify_id,
        "sku": variant.sku,
        "status": sub.status,
        "status_label": sub.get_status_display(),
        "sync_state": sub.sync_state,
        "sync_label": sub.get_sync_state_display(),
        "sync_error": sub.sync_error,
        "marketing_consent": sub.marketing_consent,
        "sms_consent": sub.sms_consent,
        "source": sub.source,
        "created_at": _iso(sub.created_at),
        "notified_at": _iso(sub.notified_at),
        "unsubscribed_at": _iso(sub.unsubscribed_at),
        "removable": sub.status in (Subscription.Status.ACTIVE, Subscription.Status.NOTIFIED),
    }


def subscriber_page(*, shop: Shop, filters: SubscriberFilters, cursor: int | None,
                    limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """`limit` rows after `cursor`, newest first, and the cursor of the next page (or None)."""
    rows = subscriber_queryset(shop=shop, filters=filters)
    if cursor is not None:
        rows = rows.filter(pk__lt=cursor)
    found = list(rows.select_related("variant__product").order_by("-pk")[:limit + 1])
    more = len(found) > limit
    page = found[:limit]
    return [subscriber_row(sub) for sub in page], (page[-1].pk if more and page else None)


def subscriber_count(*, shop: Shop, filters: SubscriberFilters) -> int:
    return subscriber_queryset(shop=shop, filters=filters).count()


def subscriber_get(*, shop: Shop, subscription_id: int) -> Subscription | None:
    """The shop's subscription with this id; None for another shop's (no existence leak)."""
    return (Subscription.objects.select_related("variant__product")
            .filter(shop=shop, pk=subscription_id).first())


def subscriber_export_rows(*, shop: Shop, filters: SubscriberFilters
                           ) -> Iterator[tuple[Any, ...]]:
    """Every matching subscriber as a tuple in `EXPORT_COLUMNS` order, read in chunks through
    a server-side cursor (`iterator`): memory stays flat however many rows the shop has."""
    rows = (subscriber_queryset(shop=shop, filters=filters).order_by("pk")
            .values_list(*_EXPORT_FIELDS).iterator(chunk_size=EXPORT_CHUNK))
    for display, email, *rest in rows:
        yield (display or email, *rest)


def import_progress(batch: WaitlistImport) -> dict[str, Any]:
    """An import as the page polls it."""
    done = batch.next_row if batch.state != WaitlistImport.State.DONE else batch.total_rows
    return {
        "id": batch.pk,
        "state": batch.state,
        "state_label": batch.get_state_display(),
        "filename": batch.filename,
        "total": batch.total_rows,
        "processed": done,
        "created": batch.created_count,
        "existing": batch.existing_count,
        "failed": batch.failed_count,
        "has_errors": bool(batch.failed_count),
        "created_at": _iso(batch.created_at),
        "finished_at": _iso(batch.finished_at),
    }


def import_get(*, shop: Shop, import_id: int) -> WaitlistImport | None:
    return WaitlistImport.objects.filter(shop=shop, pk=import_id).first()


def imports_recent(*, shop: Shop, limit: int = 5) -> list[WaitlistImport]:
    return list(WaitlistImport.objects.filter(shop=shop).defer("source_csv", "error_report")
                .order_by("-created_at")[:limit])


def _export_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def subscribers_csv(*, shop: Shop, filters: SubscriberFilters) -> Iterator[bytes]:
    """The export as CSV bytes in ~64 KB pieces (UTF-8 with a BOM so Excel reads accents;
    every cell guarded against formulas). Re-importable as it is."""
    writer = LineWriter()
    buffer = ["\ufeff" + writer.line(EXPORT_COLUMNS)]
    size = 0
    for row in subscriber_export_rows(shop=shop, filters=filters):
        line = writer.line([_export_cell(value) for value in row])
        buffer.append(line)
        size += len(line)
        if size >= 65_536:
            yield "".join(buffer).encode("utf-8")
            buffer, size = [], 0
    yield "".join(buffer).encode("utf-8")
