"""RQ entry points of the restock fan-out (thin: a restock id in, one service call).

All fan-out work runs on the `bulk` queue so a huge restock never delays another merchant's
single signup on `sync`. Jobs are only nudges: they carry an id, never a key or a payload, and
losing any of them (Redis flushed, worker killed) only delays the work — the sweeper finds due
deliveries in PostgreSQL and nudges again. Enqueueing is best effort for the same reason.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

import django_rq
from rq import Queue

from notifyme.restocks import conf

logger = logging.getLogger(__name__)
QUEUE = "bulk"
JOB_OPTIONS = {"result_ttl": 0, "failure_ttl": 86400, "job_timeout": 120}
_queue: tuple[int, Queue] | None = None


def _bulk() -> Queue:
    """One queue object (and Redis pool) per process, not one per enqueue (django-rq#210)."""
    global _queue
    if _queue is None or _queue[0] != os.getpid():
        _queue = (os.getpid(), django_rq.get_queue(QUEUE))
    return _queue[1]


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


def fanout_continue(*, restock_id: int) -> bool:
    """The successor of a job that claimed a full chunk."""
    return _safely("continue the fan-out", restock_id,
                   lambda: _bulk().enqueue(run_fanout_chunk, restock_id, **JOB_OPTIONS))


def fanout_nudge_later(*, restock_id: int, seconds: float) -> bool:
    """One job after `seconds` (rate-limit waits, cool-downs, backoff); needs a scheduler."""
    from notifyme.restocks import progress

    progress.mark_alive(restock_id, seconds + conf.alive_seconds())
    delay = timedelta(seconds=max(0.0, seconds))
    return _safely("schedule the fan-out", restock_id,
                   lambda: _bulk().enqueue_in(delay, run_fanout_chunk, restock_id,
                                              **JOB_OPTIONS))


def restock_advance_at(*, restock_id: int, when: datetime) -> bool:
    """Run the next batch check of a batched restock at `when`."""
    return _safely("schedule the next batch", restock_id,
                   lambda: _bulk().enqueue_at(when, run_restock_advance, restock_id,
                                              **JOB_OPTIONS))


def run_fanout_chunk(restock_id: int) -> None:
    from notifyme.restocks.fanout import fanout_send_chunk

    fanout_send_chunk(restock_id=restock_id)


def run_restock_advance(restock_id: int) -> None:
    from notifyme.restocks.batches import restock_advance

    restock_advance(restock_id=restock_id)
