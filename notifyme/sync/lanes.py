"""Nudges for one shop's outbox: coalesced per (lane, shop), delayed ones by prefix.

Thin names over `notifyme.delivery.nudges` for the subscriber sync: the job is
`notifyme.sync.jobs.sync_shop(shop_id, lane)`, enqueued by path (so nothing here imports the
job module, and the job module can import the engine that nudges). Markers are
`sync:queued:<lane>:<shop>`; delayed nudges are `sync-<lane>|<shop>`.
"""

from __future__ import annotations

from collections.abc import Callable

from notifyme.delivery import nudges

KIND = "sync"
JOB = "notifyme.sync.jobs.sync_shop"
LANES = nudges.LANES


def enqueue_shop(*, shop_id: int, lane: str = "sync", verify: bool = False) -> bool:
    """Enqueue `sync_shop(shop_id, lane)` unless one is already queued; True if enqueued.
    Raises Redis errors (callers decide whether that matters)."""
    return nudges.enqueue_coalesced(kind=KIND, lane=lane, key=shop_id, func=JOB,
                                    args=(shop_id, lane), verify=verify)


def job_started(*, shop_id: int, lane: str) -> None:
    nudges.job_started(kind=KIND, lane=lane, key=shop_id)


def delayed_prefix(lane: str) -> str:
    return f"{KIND}-{lane}"


def later_shop(*, shop_id: int, lane: str, seconds: float) -> bool:
    """This shop's `lane` job in `seconds` (best effort; the sweeper is the safety net)."""
    return nudges.later(delayed_prefix(lane), shop_id, seconds)


def _fire(lane: str) -> Callable[[str], object]:
    def fire(arg: str) -> object:
        return enqueue_shop(shop_id=int(arg), lane=lane)

    return fire


#: What the sweeper process calls for due delayed nudges (registered in SyncConfig.ready()).
DELAYED = {delayed_prefix(lane): _fire(lane) for lane in LANES}
