"""RQ entry points for the sync engine (thin: ids in, one service call).

Jobs carry a shop id and a lane name — never a key, never a payload — and are idempotent: the
rows in PostgreSQL say what is left to do, so running a job twice (or zero times: the sweeper
re-nudges) changes nothing but timing. Enqueued by `notifyme.sync.lanes` (by path).
"""

from __future__ import annotations

from typing import Any

from django.db import close_old_connections

from notifyme.sync.engine import run_shop


def sync_shop(shop_id: int, lane: str = "sync") -> dict[str, Any]:
    """Drain this shop's due outbox rows (see `notifyme.sync.engine.run_shop`).

    Stale database connections (a restarted PostgreSQL) are dropped first, so one failed job
    is the worst a database restart costs; its rows come back when their lease expires.
    """
    close_old_connections()
    try:
        return run_shop(shop_id, lane)
    finally:
        close_old_connections()
