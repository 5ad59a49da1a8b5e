"""A restock's lifecycle after it started: batches, pause on sell-out, completion, cancel.

Batched sending releases the oldest `batch_size` waiting deliveries at a time (their
`available_at` goes from NULL to now); before every later batch the variant's current stock is
re-checked: sold out again → `paused_sold_out` (the rest keep their place and move into the next
restock), else the next batch is sized to the stock now available. Every function is idempotent
and takes the restock row lock, so the sweeper, a delayed job and a fan-out job may all call it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from notifyme.restocks import nudging, sql
from notifyme.restocks.models import Restock, RestockDelivery, RestockSettings


def release_batch(*, restock: Restock, now: datetime, size: int) -> int:
    """Release the next batch and schedule the one after it (or none when nothing waits).

    While the restock is still materialising, the part of the batch not written yet is owed
    (`batch_owed`): the materialiser releases it as it writes it, and more batches follow."""
    # Due at once, even when `now` is a (test's or sweeper's) later evaluation time.
    released = sql.release_batch(connection, restock_id=restock.pk, size=size,
                                 now=min(now, timezone.now()))
    restock.batch_owed = max(0, size - released) if restock.materialising else 0
    waiting = restock.materialising or RestockDelivery.objects.filter(
        restock=restock, state=RestockDelivery.State.PENDING, available_at__isnull=True
    ).exists()
    settings = RestockSettings.objects.get(shop_id=restock.shop_id)
    restock.next_batch_at = (
        now + timedelta(minutes=settings.batch_interval_minutes) if waiting else None
    )
    restock.save(update_fields=["next_batch_at", "batch_owed"])
    if restock.next_batch_at is not None:
        when = restock.next_batch_at
        transaction.on_commit(
            lambda: nudging.restock_advance_at(restock_id=restock.pk, when=when))
    return released


def close_materialisation(*, restock: Restock, now: datetime) -> None:
    """No more deliveries will be written for `restock` (cancelled, paused, or taken over by a
    later restock); call with its row locked. A materialiser chunk in flight then rolls back
    (its watermark UPDATE requires an open materialisation), and the subscribers it had not
    reached stay active for the next restock."""
    if restock.materialised_at is None:
        restock.materialised_at = now
        restock.batch_owed = 0
        Restock.objects.filter(pk=restock.pk).update(materialised_at=now, batch_owed=0)


def restock_advance(*, restock_id: int, now: datetime | None = None) -> str:
    """Run a due batch of a batched restock; returns what happened (for logs and tests).

    Outcomes: "not_due", "finished" (not running), "paused" (sold out again), "released:N".
    """
    now = now or timezone.now()
    with transaction.atomic():
        restock = (
            Restock.objects.select_for_update().select_related("variant").get(pk=restock_id)
        )
        if restock.state != Restock.State.RUNNING:
            return "finished"
        if restock.next_batch_at is None or restock.next_batch_at > now:
            return "not_due"
        variant = restock.variant
        variant.refresh_from_db(fields=["available_quantity"])
        if variant.available_quantity <= 0:
            close_materialisation(restock=restock, now=now)
            restock.state = Restock.State.PAUSED_SOLD_OUT
            restock.paused_at = restock.finished_at = now
            restock.next_batch_at = None
            restock.save(update_fields=["state", "paused_at", "finished_at", "next_batch_at"])
            return "paused"
        settings = RestockSettings.objects.get(shop_id=restock.shop_id)
        size = max(1, variant.available_quantity * settings.subscribers_per_unit)
        released = release_batch(restock=restock, now=now, size=size)
        if released:
            transaction.on_commit(lambda: nudging.fanout_nudge(restock_id=restock.pk))
        else:
            restock_finish_if_done(restock=restock, now=now)
        return f"released:{released}"


def restock_finish(*, restock: Restock, now: datetime) -> None:
    restock.state = Restock.State.COMPLETED
    restock.completed_at = restock.finished_at = now
    restock.next_batch_at = None
    restock.save(update_fields=["state", "completed_at", "finished_at", "next_batch_at"])


def restock_finish_if_done(*, restock: Restock, now: datetime | None = None) -> bool:
    """Complete a running restock with no pending delivery left and every delivery written
    (never while it is still materialising: the fan-out may catch up with the materialiser);
    True if it is finished."""
    if restock.state != Restock.State.RUNNING:
        return True
    if RestockDelivery.objects.filter(
        restock=restock, state=RestockDelivery.State.PENDING
    ).exists():
        return False
    updated = Restock.objects.filter(
        pk=restock.pk, state=Restock.State.RUNNING, materialised_at__isnull=False
    ).update(
        state=Restock.State.COMPLETED, completed_at=now or timezone.now(),
        finished_at=now or timezone.now(), next_batch_at=None,
    )
    restock.refresh_from_db()
    return bool(updated) or restock.is_finished


def restock_count(*, restock_id: int, sent: int = 0, failed: int = 0, skipped: int = 0) -> None:
    """Add outcomes to the restock's counters atomically (F expressions, no read-modify-write)."""
    changes = {}
    if sent:
        changes["sent"] = F("sent") + sent
    if failed:
        changes["failed"] = F("failed") + failed
    if skipped:
        changes["skipped"] = F("skipped") + skipped
        changes["total"] = F("total") - skipped
    if changes:
        Restock.objects.filter(pk=restock_id).update(**changes)


def restock_cancel(*, restock: Restock, reason: str = "Restock cancelled.") -> int:
    """Stop a running (or sold-out-paused) restock: its unsent, unleased deliveries become
    skipped with `reason` and no more are written (the row lock first, so a materialiser chunk
    either committed before — and is skipped here — or rolls back); returns how many."""
    now = timezone.now()
    with transaction.atomic():
        locked = Restock.objects.select_for_update().get(pk=restock.pk)
        close_materialisation(restock=locked, now=now)
        skipped = RestockDelivery.objects.filter(
            restock=restock, state=RestockDelivery.State.PENDING, leased_until__isnull=True
        ).update(state=RestockDelivery.State.SKIPPED, last_error=reason)
        restock_count(restock_id=restock.pk, skipped=skipped)
        Restock.objects.filter(pk=restock.pk, state__in=[
            Restock.State.RUNNING, Restock.State.PAUSED_SOLD_OUT]).update(
            state=Restock.State.CANCELLED, cancelled_at=now, finished_at=now, next_batch_at=None
        )
    return skipped

