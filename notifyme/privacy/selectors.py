"""Reads for the merchant's privacy panel: the shop's compliance requests (audit rows only —
no personal data; the report itself is built on demand by `reports.data_request_report`)."""

from __future__ import annotations

from typing import Any

from notifyme.privacy.models import ComplianceRequest
from notifyme.shops.models import Shop

PANEL_LIMIT = 50


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def compliance_request_view(row: ComplianceRequest) -> dict[str, Any]:
    return {
        "id": row.pk, "topic": row.topic, "topic_label": row.get_topic_display(),
        "shopify_request_id": row.shopify_request_id, "state": row.state,
        "state_label": row.get_state_display(), "received_at": _iso(row.received_at),
        "completed_at": _iso(row.completed_at), "deliveries": row.deliveries,
        "counts": dict(row.counts), "klaviyo_outcome": row.klaviyo_outcome,
        "klaviyo_outcome_label": row.get_klaviyo_outcome_display(),
        "notice": row.merchant_notice,
        "report_available": bool(row.subject_encrypted),
        "report_expires_at": _iso(row.subject_expires_at),
        "provided_at": _iso(row.provided_at),
    }


def compliance_requests_list(*, shop: Shop) -> list[dict[str, Any]]:
    """The shop's latest requests, newest first."""
    rows = ComplianceRequest.objects.filter(shop=shop).order_by("-received_at", "-id")
    return [compliance_request_view(row) for row in rows[:PANEL_LIMIT]]


def compliance_notices(*, shop: Shop) -> list[dict[str, Any]]:
    """Requests that leave the merchant something to do (shown at the top of the panel)."""
    rows = ComplianceRequest.objects.filter(shop=shop).exclude(merchant_notice="")
    return [{"id": r.pk, "topic": r.topic, "received_at": _iso(r.received_at),
             "notice": r.merchant_notice} for r in rows.order_by("-received_at")[:PANEL_LIMIT]]


def compliance_request_get(*, shop: Shop, request_id: int) -> ComplianceRequest | None:
    """One of the shop's requests (None for another shop's: never visible across shops)."""
    return ComplianceRequest.objects.select_related("shop").filter(
        shop=shop, pk=request_id).first()
