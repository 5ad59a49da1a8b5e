"""History retention: finished sync work and the Klaviyo call log do not grow forever.

What goes, and when (days; Django setting or environment of the same name):
- outbox rows that are `done`, after `SYNC_DONE_RETENTION_DAYS` (7): the subscription keeps its
  sync state and time, and the `SyncAttempt` rows keep what was sent;
- outbox rows that `failed`, finished import jobs and `SyncAttempt` rows (the support timeline:
  what was sent, what Klaviyo answered), after `SYNC_HISTORY_RETENTION_DAYS` (90).
Pending and waiting work is never touched, whatever its age.

Deletes run in batches of `BATCH` rows (short statements, short locks). Old rows sit at the
start of the outbox heap, so each batch's scan stops early; a run that finds nothing costs one
scan. The sweeper runs `prune_if_due` (registered in SyncConfig.ready()) at most once an hour;
`manage.py prune_sync_history` runs it by hand (`--dry-run` counts only).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone

from integrations.klaviyo.models import SyncAttempt
from notifyme.delivery import conf
from notifyme.sync.models import ImportBatch, OutboxItem

BATCH = 5000
EVERY_SECONDS = 3600.0
_last_run: dict[str, float] = {}


def _expired(now: Any) -> dict[str, QuerySet[Any]]:
    done_before = now - timedelta(days=conf.value("SYNC_DONE_RETENTION_DAYS"))
    history_before = now - timedelta(days=conf.value("SYNC_HISTORY_RETENTION_DAYS"))
    return {
        "outbox_done": OutboxItem.objects.filter(state=OutboxItem.State.DONE,
                                                 completed_at__lt=done_before),
        "outbox_failed": OutboxItem.objects.filter(state=OutboxItem.State.FAILED,
                                                   completed_at__lt=history_before),
        "import_jobs": ImportBatch.objects.filter(
            state__in=[ImportBatch.State.DONE, ImportBatch.State.FAILED],
            completed_at__lt=history_before),
        "klaviyo_calls": SyncAttempt.objects.filter(created_at__lt=history_before),
    }


def _delete_in_batches(queryset: QuerySet[Any]) -> int:
    model: type[Model] = queryset.model
    deleted = 0
    while True:
        ids = list(queryset.order_by().values_list("id", flat=True)[:BATCH])
        if not ids:
            return deleted
        # Import jobs go after the outbox rows, so a job deleted here is referenced at most by
        # a row still kept (failed, or pending again); that link is cleared (SET_NULL).
        _, per_model = model._default_manager.filter(id__in=ids).delete()
        gone = per_model.get(model._meta.label, 0)
        deleted += gone
        if not gone:  # nothing deletable left (raced with another pruner)
            return deleted


def prune_history(*, dry_run: bool = False) -> dict[str, int]:
    """Delete (or, with `dry_run`, count) what is past its retention; counts per kind."""
    expired = _expired(timezone.now())
    if dry_run:
        return {name: queryset.count() for name, queryset in expired.items()}
    return {name: _delete_in_batches(queryset) for name, queryset in expired.items()}


def prune_if_due() -> dict[str, int] | str:
    """The sweeper's hook: prune at most once per `EVERY_SECONDS` in this process."""
    now = time.monotonic()
    if now - _last_run.get("at", -EVERY_SECONDS) < EVERY_SECONDS:
        return "not due"
    _last_run["at"] = now
    return prune_history()
