"""Nudges: RQ jobs that tell a worker "look at this work". Best effort by design.

Two lanes (queues): `sync` for interactive work (a shopper's signup, a handful of rows; newest
first) and `bulk` for backlogs and fan-outs. Workers listen `sync` before `bulk`, so another
merchant's lone signup overtakes a 100,000-row backlog at the next free worker.

Coalescing without swallowing (`enqueue_coalesced`): at most one *queued* job per (kind, lane,
key), remembered by a marker key `<kind>:queued:<lane>:<key>` (SET NX, value = job id). The job
calls `job_started` when it *starts*, which deletes the marker, so a nudge that arrives while it
runs enqueues a successor instead of being lost; the job also re-checks for due rows before it
ends. A marker whose job vanished (Redis flush, killed worker) is detected with `verify=True`
(the sweeper) and replaced. Job ids are unique per enqueue (RQ re-runs a re-enqueued id,
rq#1701), and results are not kept (`result_ttl=0`). Jobs are enqueued by dotted path, so this
package never imports a domain's job module.

Delayed nudges (rate-limit waits, import-job polls, backoff) go to one Redis sorted set scored by
due time; the sweeper process moves due entries to their queue every ~0.1 s through the handler
a kind registered for the prefix (`registry.Handler.delayed`). RQ's own scheduler polls once per
second, which would leave up to a second of every rate-limit window unused. The database still
holds `available_at`, so a lost delayed nudge only waits for the minute sweep.

Bulk-job fairness: `bulk_running` counts the bulk jobs of one shop running now (so each sizes its
claim to its share) and `interactive_waiting` tells a bulk job to yield its worker to a signup.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any

import django_rq
from django.conf import settings
from rq import Queue
from rq.job import Job, JobStatus

from notifyme.core.redis import get_redis
from notifyme.delivery import registry

logger = logging.getLogger(__name__)

LANES = ("sync", "bulk")
MARKER_TTL_SECONDS = 300
DELAYED_KEY = "sync:delayed"
JOB_OPTIONS: dict[str, Any] = {"result_ttl": 0, "failure_ttl": 86400, "job_timeout": 180}
LIVE_STATUSES = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}

_queues: dict[tuple[int, str, str], Queue] = {}


def queue(name: str) -> Queue:
    """One Queue (and Redis pool) per process and name, not one per call (django-rq#210)."""
    # Keyed by the queue's configuration too, so a changed RQ_QUEUES (tests) takes effect.
    key = (os.getpid(), name, repr(settings.RQ_QUEUES.get(name)))
    if key not in _queues:
        # "auto": we only nudge after our own commits; deferring to on_commit inside a caller's
        # transaction would make the marker and the job disagree.
        _queues[key] = django_rq.get_queue(name, commit_mode="auto")
    return _queues[key]


def _marker(kind: str, lane: str, key: int | str) -> str:
    return f"{kind}:queued:{lane}:{key}"


def enqueue_coalesced(*, kind: str, lane: str, key: int | str, func: str, args: tuple[Any, ...],
                      verify: bool = False, options: dict[str, Any] | None = None) -> bool:
    """Enqueue `func(*args)` (a dotted path) on `lane` unless a job of (`kind`, `lane`, `key`)
    is already queued; True if enqueued.

    `verify=True` (sweeper) checks that a marker's job still exists and is queued, and replaces
    it otherwise. Raises Redis errors: callers decide whether that matters (it rarely does).
    """
    if lane not in LANES:
        raise ValueError(f"unknown lane {lane!r}")
    redis = queue(lane).connection
    job_id = f"{kind}-{lane}-{key}-{uuid.uuid4().hex[:12]}"
    marker = _marker(kind, lane, key)
    if not redis.set(marker, job_id, nx=True, ex=MARKER_TTL_SECONDS):
        if not verify or _marker_is_live(redis, marker):
            return False
        redis.set(marker, job_id, ex=MARKER_TTL_SECONDS)
    try:
        queue(lane).enqueue(func, *args, job_id=job_id, **(options or JOB_OPTIONS))
    except Exception:
        redis.delete(marker)
        raise
    return True


def _marker_is_live(redis: Any, key: str) -> bool:
    raw = redis.get(key)
    if raw is None:
        return False
    try:
        job = Job.fetch(raw.decode(), connection=redis)
    except Exception:  # NoSuchJobError and friends: the job is gone
        return False
    return job.get_status(refresh=True) in LIVE_STATUSES


def interactive_waiting() -> bool:
    """Is a `sync` (interactive) job waiting? Bulk jobs then yield their worker between rounds."""
    try:
        return queue("sync").count > 0
    except Exception:
        return False


def job_started(*, kind: str, lane: str, key: int | str) -> None:
    """Called first thing in a coalesced job: the next nudge must enqueue a successor."""
    try:
        queue(lane).connection.delete(_marker(kind, lane, key))
    except Exception:
        logger.warning("could not clear the %s nudge marker for %s", kind, key)


# -- delayed nudges -------------------------------------------------------------------------------


#: A bulk job counts as running for this long after its last round started.
RUNNING_SECONDS = 30.0


def bulk_running(*, shop_id: int, token: str) -> int:
    """Note that bulk job `token` is running a round for `shop_id`; return how many bulk jobs
    of the shop are running, itself included (1 when Redis cannot tell)."""
    key = f"sync:bulk-running:{shop_id}"
    now = time.time()
    try:
        pipe = get_redis().pipeline()
        pipe.zadd(key, {token: now})
        pipe.zremrangebyscore(key, "-inf", now - RUNNING_SECONDS)
        pipe.zcard(key)
        pipe.expire(key, int(RUNNING_SECONDS * 2))
        return max(1, int(pipe.execute()[2]))
    except Exception:
        return 1


def bulk_finished(*, shop_id: int, token: str) -> None:
    try:
        get_redis().zrem(f"sync:bulk-running:{shop_id}", token)
    except Exception:  # the entry ages out after RUNNING_SECONDS
        logger.debug("could not clear bulk job %s of shop %s", token, shop_id)


def later(prefix: str, arg: str | int, seconds: float) -> bool:
    """Nudge the `prefix` handler with `arg` in `seconds` (the earliest of several requests
    wins). Best effort."""
    due = time.time() + max(0.0, seconds)
    try:
        get_redis().zadd(DELAYED_KEY, {f"{prefix}|{arg}": due}, lt=True)
    except Exception:
        logger.warning("could not schedule %s %s; the sweeper will find it", prefix, arg)
        return False
    return True


def release_due(*, now: float | None = None, limit: int = 500) -> int:
    """Move due delayed nudges to their queues; safe with many sweepers (ZREM decides)."""
    redis: Any = get_redis()
    now = time.time() if now is None else now
    members = redis.zrangebyscore(DELAYED_KEY, "-inf", now, start=0, num=limit)
    fired = 0
    for raw in members:
        member = raw.decode()
        if not redis.zrem(DELAYED_KEY, member):
            continue  # another sweeper took it
        prefix, _, arg = member.partition("|")
        handler = registry.delayed_handler(prefix)
        if handler is None:
            logger.warning("no handler for delayed nudge %s", member)
            continue
        try:
            handler(arg)
            fired += 1
        except Exception:
            logger.exception("delayed nudge %s failed; the sweeper will retry", member)
    return fired


def next_due_in(*, now: float | None = None) -> float | None:
    """Seconds until the earliest delayed nudge (None when there is none)."""
    found: Any = get_redis().zrange(DELAYED_KEY, 0, 0, withscores=True)
    if not found:
        return None
    now = time.time() if now is None else now
    return max(0.0, float(found[0][1]) - now)
