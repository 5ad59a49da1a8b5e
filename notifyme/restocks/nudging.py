"""Nudges of the restock fan-out: jobs on the `bulk` queue, enqueued by path, best effort.

All fan-out work runs on the `bulk` queue so a huge restock never delays another merchant's
single signup on `sync`. Jobs are only nudges: they carry an id, never a key or a payload, and
losing any of them (Redis flushed, worker killed) only delays the work — the sweeper finds due
deliveries in PostgreSQL and nudges again. Enqueueing is best effort for the same reason. The
job functions live in `notifyme.restocks.jobs`, which imports the fan-out; enqueueing them by
path keeps this module (and everything that nudges) below it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone

from notifyme.delivery import conf, nudges
from notifyme.restocks import progress

logger = logging.getLogger(__name__)
QUEUE = "bulk"
FANOUT_JOB = "notifyme.restocks.jobs.run_fanout_chunk"
ADVANCE_JOB = "notifyme.restocks.jobs.run_restock_advance"
MATERIALISE_JOB = "notifyme.restocks.jobs.run_restock_materialise"
MATERIALISE_KIND = "restock-materialise"
DELAYED_PREFIX = "restock-fanout"
ADVANCE_PREFIX = "restock-advance"
JOB_OPTIONS: dict[str, Any] = {"result_ttl": 0, "failure_ttl": 86400, "job_timeout": 120}


def _safely(action: str, restock_id: int, call: Callable[[], object]) -> bool:
    try:
        call()
    except Exception:
        logger.warning("could not %s for restock %s; the sweeper will", action, restock_id)
        return False
    return True


def fanout_nudge(*, restock_id: int, chains: int | None = None) -> bool:
    """Start `chains` parallel fan-out jobs (each keeps one chunk in flight)."""
    count = chains or conf.restock_chains()

    def enqueue() -> None:
        queue = nudges.queue(QUEUE)
        for _ in range(count):
            queue.enqueue(FANOUT_JOB, restock_id, **JOB_OPTIONS)

    return _safely("nudge the fan-out", restock_id, enqueue)


def fanout_continue(*, restock_id: int, from_start: bool = False) -> bool:
    """The successor of a job that claimed a full chunk (or the job a delayed nudge starts:
    `from_start`, so rows handed back are claimed first)."""
    return _safely("continue the fan-out", restock_id,
                   lambda: nudges.queue(QUEUE).enqueue(FANOUT_JOB, restock_id, from_start,
                                                       **JOB_OPTIONS))


def fanout_nudge_later(*, restock_id: int, seconds: float) -> bool:
    """One job after `seconds` (rate-limit waits, cool-downs, backoff).

    Goes through the pipeline's delayed nudges (a Redis sorted set the sweeper process drains
    every ~0.1 s; RQ's scheduler only looks once per second, which would leave part of every
    rate-limit window unused). Several requests for one restock collapse into the earliest. If
    it is lost, the minute sweep finds the due rows.
    """
    progress.mark_alive(restock_id, seconds + conf.restock_alive_seconds())
    return nudges.later(DELAYED_PREFIX, restock_id, seconds)


def fanout_starved(*, restock_id: int) -> None:
    """A fan-out job found fewer due rows than a chunk while the restock is still being
    materialised: its chain would end here. Count it (the materialiser restarts that many chains
    after its next chunk, `fanout_regrow`) and come back shortly in any case."""
    progress.note_starved(restock_id)
    fanout_nudge_later(restock_id=restock_id, seconds=0.5)


def fanout_regrow(*, restock_id: int) -> bool:
    """After a chunk of deliveries was written: restart the chains that ran dry (at most
    `RESTOCK_FANOUT_CHAINS`)."""
    starved = progress.take_starved(restock_id)
    if not starved:
        return False
    return fanout_nudge(restock_id=restock_id, chains=min(starved, conf.restock_chains()))


def materialise_nudge(*, restock_id: int, verify: bool = False) -> bool:
    """Queue the job that writes the rest of a restock's deliveries (at most one queued per
    restock; `verify=True` from the sweeper replaces a marker whose job vanished); True if a job
    was queued. Best effort: the sweeper resumes a materialisation whose job never came."""
    try:
        return nudges.enqueue_coalesced(
            kind=MATERIALISE_KIND, lane=QUEUE, key=restock_id, func=MATERIALISE_JOB,
            args=(restock_id,), verify=verify, options=JOB_OPTIONS)
    except Exception:
        logger.warning("could not queue the materialiser for restock %s; the sweeper will",
                       restock_id)
        return False


def restock_advance_at(*, restock_id: int, when: datetime) -> bool:
    """Run the next batch check of a batched restock at `when` (now if it is due)."""
    seconds = (when - timezone.now()).total_seconds()
    if seconds <= 0:
        return restock_advance_now(restock_id=restock_id)
    return nudges.later(ADVANCE_PREFIX, restock_id, seconds)


def restock_advance_now(*, restock_id: int) -> bool:
    return _safely("run the next batch", restock_id,
                   lambda: nudges.queue(QUEUE).enqueue(ADVANCE_JOB, restock_id, **JOB_OPTIONS))


#: What the sweeper process calls for due delayed nudges (registered in RestocksConfig.ready()).
DELAYED: dict[str, Callable[[str], object]] = {
    DELAYED_PREFIX: lambda arg: fanout_continue(restock_id=int(arg), from_start=True),
    ADVANCE_PREFIX: lambda arg: restock_advance_now(restock_id=int(arg)),
}
