"""Reads of restocks for the merchant's dashboard (writes live in services.py / batches.py).

Progress comes from the database counters (the truth); the rate comes from the per-second
counters the fan-out keeps in Redis (events/s over the last minute), and the ETA from both.
Always scoped to one shop: a shop never sees another shop's restocks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notifyme.restocks import progress
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def restock_progress_list(*, shop: Shop, limit: int = 10) -> list[dict[str, Any]]:
    """The shop's most recent restocks, newest first, with sent/total, rate, ETA and state."""
    restocks = list(
        Restock.objects.filter(shop=shop).select_related("variant__product")
        .order_by("-started_at", "-id")[:limit]
    )
    rates = progress.rates(r.pk for r in restocks if r.state == Restock.State.RUNNING)
    items = []
    for r in restocks:
        rate = rates.get(r.pk, 0.0)
        remaining = r.remaining
        eta = (round(remaining / rate) if rate > 0 and remaining and r.state == "running"
               and not r.materialising else None)  # no ETA while the total still grows
        items.append({
            "id": r.pk,
            "product_title": r.variant.product.title,
            "variant_title": r.variant.title,
            "quantity": r.quantity,
            "state": r.state,
            "state_label": r.get_state_display(),
            "send_mode": r.send_mode,
            "total": r.total,
            "materialising": r.materialising,
            "sent": r.sent,
            "failed": r.failed,
            "skipped": r.skipped,
            "remaining": remaining,
            "percent": round(100 * (r.sent + r.failed) / r.total, 1) if r.total else 100.0,
            "rate_per_second": round(rate, 1),
            "eta_seconds": eta,
            "started_at": _iso(r.started_at),
            "finished_at": _iso(r.finished_at),
            "next_batch_at": _iso(r.next_batch_at),
        })
    return items
