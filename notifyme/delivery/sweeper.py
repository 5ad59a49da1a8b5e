"""The sweeper: finds work whose nudge was lost and nudges it again. Redis may lose everything.

`sweep()` (every minute) reads only PostgreSQL: shops with outbox rows that are due and not
leased, rows whose lease expired (their worker died), and import jobs due for a poll — and
enqueues a job for each (`verify=True` replaces a nudge marker whose job vanished). Then it runs
every registered hook (`register(name, hook)`; the restock fan-out and history
retention register theirs).

`tick()` (every ~0.1 s) fires delayed nudges that are due (see `nudges`).

Why a process of its own (`python manage.py sync_sweeper`) rather than RQ's scheduler/cron: its
state is the database and its own loop, so it keeps working through a Redis flush or restart
(RQ's cron and scheduler registries live in Redis), it survives database restarts (each tick
closes a broken connection and tries again next time), and it can fire delayed nudges ten times
per second where RQ's scheduler moves them once per second. Several sweepers may run at once:
every action is idempotent (coalesced nudges, ZREM-claimed delayed nudges).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections
from django.db.models import Count, Q
from django.utils import timezone

from integrations.klaviyo.models import KlaviyoConnection
from notifyme.delivery import nudges
from notifyme.sync.models import ImportBatch, OutboxItem

logger = logging.getLogger(__name__)
BULK_THRESHOLD = 50

_hooks: dict[str, Callable[[], Any]] = {}


def register(name: str, hook: Callable[[], Any]) -> None:
    """Run `hook()` on every sweep (idempotent; exceptions are logged, never fatal)."""
    _hooks[name] = hook


def hooks() -> dict[str, Callable[[], Any]]:
    return dict(_hooks)


def due_shops() -> dict[int, int]:
    """{shop id: due row count} for syncing shops: due rows, expired leases, due import polls."""
    now = timezone.now()
    syncing = Q(shop__klaviyo_connection__status=KlaviyoConnection.Status.CONNECTED)
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    rows = (OutboxItem.objects.filter(syncing, free, state=OutboxItem.State.PENDING,
                                      available_at__lte=now)
            .values("shop_id").annotate(n=Count("id")).order_by())
    found = {r["shop_id"]: r["n"] for r in rows}
    batches = (ImportBatch.objects.filter(syncing, free, state=ImportBatch.State.PENDING,
                                          available_at__lte=now)
               .values_list("shop_id", flat=True).distinct())
    for shop_id in batches:
        found[shop_id] = max(found.get(shop_id, 0), BULK_THRESHOLD + 1)
    return found


def sweep() -> dict[str, Any]:
    """One sweep over the database (see module docstring); returns counts for logs and tests."""
    nudged = 0
    for shop_id, count in due_shops().items():
        lane = "bulk" if count > BULK_THRESHOLD else "sync"
        try:
            nudged += int(nudges.enqueue_lane(shop_id=shop_id, lane=lane, verify=True))
        except Exception:
            logger.warning("sweeper could not nudge shop %s (Redis down?)", shop_id)
    results: dict[str, Any] = {"nudged": nudged}
    for name, hook in hooks().items():
        try:
            results[name] = hook()
        except Exception:
            logger.exception("sweeper hook %s failed", name)
            results[name] = "error"
    return results


def run(*, interval: float = 60.0, tick_seconds: float = 0.1,
        stop: Callable[[], bool] | None = None, max_seconds: float | None = None) -> None:
    """Loop: delayed nudges every `tick_seconds`, a full sweep every `interval` seconds."""
    started = time.monotonic()
    next_sweep = 0.0
    while not (stop and stop()):
        now = time.monotonic()
        if max_seconds is not None and now - started > max_seconds:
            return
        if now >= next_sweep:
            next_sweep = now + interval
            try:
                result = sweep()
                if result.get("nudged"):
                    logger.info("sweep: %s", result)
            except Exception:
                logger.exception("sweep failed; retrying next interval")
                close_old_connections()
                _drop_broken_connections()
        try:
            nudges.release_due()
        except Exception:
            logger.warning("delayed nudges unavailable (Redis down?); retrying")
            time.sleep(min(1.0, interval))
        time.sleep(tick_seconds)


def _drop_broken_connections() -> None:
    from django.db import connections

    for conn in connections.all():
        try:
            conn.close()
        except Exception:
            logger.debug("closing a broken connection failed", exc_info=True)
