"""Reads of restocks for the merchant's dashboard (writes live in services.py / batches.py).

Progress comes from the database counters (the truth); the rate comes from the per-second
counters the fan-out keeps in Redis (events/s over the last minute), and the ETA from both.
Always scoped to one shop: a shop never sees another shop's restocks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notifyme.restocks import progress
from notifyme.restocks.models import Restock, RestockSettings
from notifyme.shops.models import Shop


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def restock_outcome(restock: Restock) -> str:
    """One sentence saying where a restock stands or how it ended (the merchant's words)."""
    r = restock
    done = [f"{r.sent:,} sent"] + ([f"{r.failed:,} failed"] if r.failed else []) + (
        [f"{r.skipped:,} skipped"] if r.skipped else [])
    if r.state == Restock.State.RUNNING:
        if r.materialising:
            return f"Sending: {', '.join(done)} so far; still adding waiting subscribers."
        if r.send_mode == RestockSettings.SendMode.BATCHED and r.next_batch_at:
            return (f"Sending in batches of {r.batch_size:,}: {', '.join(done)}; "
                    f"the next batch follows on schedule.")
        return f"Sending: {', '.join(done)}, {r.remaining:,} to go."
    if r.state == Restock.State.COMPLETED:
        if r.total == 0 and not r.sent:
            return "Nobody to notify (no one was waiting, or all were notified recently)."
        return f"Completed: {', '.join(done)}."
    if r.state == Restock.State.PAUSED_SOLD_OUT:
        return (f"Sold out again after {_count(r.sent, 'alert')} sent; the others keep their "
                "place for the next restock.")
    return f"Cancelled: {', '.join(done)}."


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
            "batch_size": r.batch_size,
            "outcome": restock_outcome(r),
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
