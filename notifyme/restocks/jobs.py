"""RQ entry points of the restock fan-out (thin: a restock id in, one service call).

All fan-out work runs on the `bulk` queue so a huge restock never delays another merchant's
single signup on `sync`. Jobs are only nudges: they carry an id, never a key or a payload, and
losing any of them (Redis flushed, worker killed) only delays the work — the sweeper finds due
deliveries in PostgreSQL and nudges again. Enqueueing is best effort for the same reason.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone
from rq import Queue

# Imported here, not in the job functions: the worker imports this module at startup (the app's
# ready() registers the delayed-nudge handler), so jobs start with the fan-out code, the Klaviyo
# client and requests already loaded (also in a work horse, should a forking worker run them).
from notifyme.restocks import batches, conf, fanout

logger = logging.getLogger(__name__)
QUEUE = "bulk"
DELAYED_PREFIX = "restock-fanout"
ADVANCE_PREFIX = "restock-advance"
JOB_OPTIONS = {"result_ttl": 0, "failure_ttl": 86400, "job_timeout": 120}


def _bulk() -> Queue:
    """The shared per-process `bulk` queue (commit mode "auto": callers already enqueue only
    after their own commits, through `transaction.on_commit`)."""
    from notifyme.delivery import nudges

    return nudges.queue(QUEUE)


def _safely(action: str, restock_id: int, call: object) -> bool:
    try:
        call()  # type: ignore[operator]
    except Exception:
        logger.warning("could not %s for restock %s; the sweeper will", action, restock_id)
        return False
    return True


def fanout_nudge(*, restock_id: int, chains: int | None = None) -> bool:
    """Start `chains` parallel fan-out jobs (each keeps one chunk in flight)."""
    count = chains or conf.chains()

    def enqueue() -> None:
        queue = _bulk()
        for _ in range(count):
            queue.enqueue(run_fanout_chunk, restock_id, **JOB_OPTIONS)

    return _safely("nudge the fan-out", restock_id, enqueue)


def fanout_continue(*, restock_id: int, from_start: bool = False) -> bool:
    """The successor of a job that claimed a full chunk (or the job a delayed nudge starts:
    `from_start`, so rows handed back are claimed first)."""
    return _safely("continue the fan-out", restock_id,
                   lambda: _bulk().enqueue(run_fanout_chunk, restock_id, from_start,
                                           **JOB_OPTIONS))


def fanout_nudge_later(*, restock_id: int, seconds: float) -> bool:
    """One job after `seconds` (rate-limit waits, cool-downs, backoff).

    Goes through the sync engine's delayed nudges (a Redis sorted set the sweeper process
    drains every ~0.1 s; RQ's scheduler only looks once per second, which would leave part of
    every rate-limit window unused). Several requests for one restock collapse into the
    earliest. If it is lost, the minute sweep finds the due rows.
    """
    from notifyme.delivery import nudges
    from notifyme.restocks import progress

    progress.mark_alive(restock_id, seconds + conf.alive_seconds())
    return nudges.later(DELAYED_PREFIX, restock_id, seconds)


def register_delayed() -> None:
    """Let the sweeper process turn due delayed nudges into fan-out jobs."""
    from notifyme.delivery import nudges

    nudges.register(DELAYED_PREFIX,
                    lambda arg: fanout_continue(restock_id=int(arg), from_start=True))
    nudges.register(ADVANCE_PREFIX, lambda arg: restock_advance_now(restock_id=int(arg)))


def restock_advance_at(*, restock_id: int, when: datetime) -> bool:
    """Run the next batch check of a batched restock at `when` (now if it is due)."""
    from notifyme.delivery import nudges

    seconds = (when - timezone.now()).total_seconds()
    if seconds <= 0:
        return restock_advance_now(restock_id=restock_id)
    return nudges.later(ADVANCE_PREFIX, restock_id, seconds)


def restock_advance_now(*, restock_id: int) -> bool:
    return _safely("run the next batch", restock_id,
                   lambda: _bulk().enqueue(run_restock_advance, restock_id, **JOB_OPTIONS))


def run_fanout_chunk(restock_id: int, from_start: bool = False) -> None:
    fanout.fanout_send_chunk(restock_id=restock_id, from_start=from_start)


def run_restock_advance(restock_id: int) -> None:
    batches.restock_advance(restock_id=restock_id)


def restocks_resume(*, shop_id: int) -> int:
    """Nudge every unfinished restock of a shop (e.g. right after the merchant reconnects
    Klaviyo, instead of waiting for the next sweep); returns how many were nudged."""
    from notifyme.restocks.models import Restock

    running = Restock.objects.filter(
        shop_id=shop_id, state__in=[Restock.State.RUNNING, Restock.State.PAUSED_SOLD_OUT]
    ).values_list("id", flat=True)
    return sum(int(fanout_nudge(restock_id=restock_id)) for restock_id in running)
