"""The sweeper: finds work whose nudge was lost and nudges it again. Redis may lose everything.

`sweep()` (every minute) asks every registered kind of work (`registry.handlers()`) for its
due and stranded rows — pending and unleased, or whose lease expired because the worker died —
and each handler nudges what it found (coalesced nudges with `verify=True` replace a marker whose
job vanished). Handlers read only the database. A handler that raises is logged and reported as
"error" (on a database error the process' connections are also dropped, so a restarted
PostgreSQL costs one failed sweep, not every sweep after it), and the others still run.

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

from django.db import DatabaseError, close_old_connections, connections

from notifyme.delivery import nudges, registry

logger = logging.getLogger(__name__)


def sweep() -> dict[str, Any]:
    """One sweep over the database (see module docstring); results by handler name."""
    results: dict[str, Any] = {}
    for handler in registry.handlers():
        try:
            results[handler.name] = handler.sweep()
        except Exception as error:
            logger.exception("sweep of %s failed", handler.name)
            results[handler.name] = "error"
            if isinstance(error, DatabaseError):
                # The database went away (a restart): reconnect for the next handler and the
                # next sweep instead of failing on a dead connection forever.
                _drop_broken_connections()
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
                logger.debug("sweep: %s", sweep())
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
    for conn in connections.all():
        try:
            conn.close()
        except Exception:
            logger.debug("closing a broken connection failed", exc_info=True)
