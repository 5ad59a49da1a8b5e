"""One rate limiter for every worker: Klaviyo's fixed windows, per account and operation, in Redis.

Contract
- ``acquire(account_id=..., operation=...) -> float``: ``0.0`` means "send now" and one slot was
  taken in every window of the operation; a positive number is the seconds to wait, and nothing
  was taken. Never blocks, never sleeps: a job that gets a wait hands its rows back to the outbox
  with ``available_at = now + wait`` (see ``notifyme.delivery.leasing``).
- ``available(account_id=..., operation=...) -> (calls, wait)``: a read-only peek, for sizing
  work to the budget before claiming it.
- ``cool_down(account_id=..., seconds=...)``: after any 429, every worker of every operation of
  that account waits until the "not before" instant (only ever pushed later, never earlier).
- ``cool_down_after(account_id=..., error=...)``: the same, with the wait taken from the 429
  (``Retry-After`` / "Expected available in N seconds"), else a default that doubles on each
  consecutive hint-less 429 (1 s, 2 s, 4 s ... capped at 60 s: the longest Klaviyo window).

Why it is shaped like this
- Klaviyo counts each *account* (all its keys together) per operation in **fixed** windows
  aligned to the wall clock: a 1-second burst window and a 60-second steady window (plus a daily
  one for a few operations, e.g. Create List 150/day). Both must hold at once: a token bucket of
  "10 burst, 2.5/s" admits 160 calls in the first minute where 150 are allowed. So each window is
  counted separately and a call is admitted only when *every* window has room (one Lua script:
  check all, then charge all, atomically, with Redis' own clock so workers on different machines
  agree on window boundaries).
- Buckets are keyed by the client's *operation* name (``bulk_create_events``, ``profile_import``
  ...), not by path or tier: operations that share a tier or a path template still have
  separate quotas in Klaviyo's published limits, so pooling them would halve throughput for no
  reason. Limits are the spec's ``x-klaviyo-ratelimit`` of revision 2026-07-15, kept as the
  table below: production never reads the spec (a development file), and
  ``tests/sandbox/test_published_limits.py`` pins the table to the spec.
- Safety margin, per window (settings ``KLAVIYO_RATE_FACTOR_BURST/STEADY/DAILY``): the steady and
  daily windows run at 0.9 of the published number (other integrations share the account's
  quota, and the last 10 % of a minute costs little). The 1-second window runs at 1.0 by
  default because a 10 % cut there costs ~11 % of total throughput for bulk endpoints, whose
  binding limit is the burst (100 bulk calls = 10 s at 10/s). Its safety comes from a *guard
  band* instead (``KLAVIYO_RATE_GUARD_SECONDS``, default 0.25 s): a call admitted in the last
  guard seconds of a window is charged to that window **and** the next, because it may reach
  Klaviyo after the boundary (latency, queueing, clock skew). Calls admitted at the start of a
  window (the saturated case: waiters wake at the boundary) are charged once, so the guard costs
  nothing at full speed and prevents the straddling that would otherwise produce 429s.
- Redis keys live under ``kl:rl:{<account>}:...`` (one hash slot per account) and expire after
  two window lengths, so a flushed Redis only forgets counts (the next 429, if any, resets the
  cool-down) and never leaks memory.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from integrations.klaviyo.ratelimit_lua import ACQUIRE as _ACQUIRE
from integrations.klaviyo.ratelimit_lua import COOL_DOWN as _COOL_DOWN
from integrations.klaviyo.ratelimit_lua import PEEK as _PEEK
from notifyme.core.redis import get_redis

WINDOW_SECONDS = {"burst": 1, "steady": 60, "daily": 86400}
MAX_DEFAULT_COOL_DOWN = 60.0

_XS = {"burst": 1, "steady": 15}
_M = {"burst": 10, "steady": 150}
_L = {"burst": 75, "steady": 750}
_XL = {"burst": 350, "steady": 3500}
# Per client operation: x-klaviyo-ratelimit of revision 2026-07-15.
PUBLISHED_LIMITS: dict[str, dict[str, int]] = {
    "get_accounts": _XS,
    "get_lists": _L,
    "get_list": _L,
    "create_list": {**_M, "daily": 150},
    "profile_import": _L,
    "update_profile": _L,
    "get_profiles": _L,
    "get_profile": _L,
    "bulk_import_profiles": _M,
    "get_bulk_import_job": _M,
    "get_bulk_import_errors": _M,
    "add_profiles_to_list": _M,
    "remove_profiles_from_list": _M,
    "bulk_subscribe": _L,
    "bulk_unsubscribe": _L,
    "create_event": _XL,
    "bulk_create_events": _M,
    "request_profile_deletion": {"burst": 3, "steady": 60},
    "get_metrics": _M,
    "get_flows_triggered_by_metric": _M,
    "create_flow": {"burst": 1, "steady": 15, "daily": 100},
}
# An operation we do not know gets the most conservative common tier.
UNKNOWN_LIMITS = _XS


@dataclass(frozen=True)
class Window:
    """One fixed window as enforced: `limit` calls per `seconds`, `guard` seconds of overlap."""

    name: str
    seconds: int
    published: int
    limit: int
    guard: float


def published_limits(operation: str) -> dict[str, int]:
    """Klaviyo's published limits for a client operation."""
    return dict(PUBLISHED_LIMITS.get(operation) or UNKNOWN_LIMITS)


def _factor(name: str) -> float:
    defaults = {"burst": 1.0, "steady": 0.9, "daily": 0.9}
    setting = f"KLAVIYO_RATE_FACTOR_{name.upper()}"
    raw: Any = getattr(settings, setting, None) or os.environ.get(setting)
    return float(raw) if raw not in (None, "") else defaults[name]


def _guard() -> float:
    raw: Any = getattr(settings, "KLAVIYO_RATE_GUARD_SECONDS", None) or os.environ.get(
        "KLAVIYO_RATE_GUARD_SECONDS")
    return float(raw) if raw not in (None, "") else 0.25


def windows_for(operation: str) -> list[Window]:
    """The windows enforced for `operation`, after the safety factors (each limit at least 1)."""
    guard = _guard()
    return [
        Window(name, WINDOW_SECONDS[name], published,
               max(1, math.floor(published * _factor(name) + 1e-9)),
               min(guard, WINDOW_SECONDS[name] / 2))
        for name, published in sorted(published_limits(operation).items(),
                                      key=lambda item: WINDOW_SECONDS[item[0]])
    ]


def _prefix(account_id: str, operation: str) -> str:
    return f"kl:rl:{{{account_id}}}:{operation}:"


def _cool_down_key(account_id: str) -> str:
    return f"kl:rl:{{{account_id}}}:cooldown"


def _strikes_key(account_id: str) -> str:
    return f"kl:rl:{{{account_id}}}:strikes"


def _redis() -> Any:
    """The app's Redis client (typed loosely: redis-py's sync/async unions confuse mypy)."""
    return get_redis()


def _window_args(account_id: str, operation: str) -> list[Any]:
    """ARGV of the ACQUIRE and PEEK scripts: key prefix, window count, then (seconds, limit,
    guard) per window."""
    windows = windows_for(operation)
    args: list[Any] = [_prefix(account_id, operation), len(windows)]
    for window in windows:
        args += [window.seconds, window.limit, window.guard]
    return args


def acquire(*, account_id: str, operation: str) -> float:
    """0.0 and one slot taken in every window, or the seconds to wait with nothing taken."""
    allowed, wait = _redis().eval(_ACQUIRE, 1, _cool_down_key(account_id),
                                  *_window_args(account_id, operation))
    if int(allowed) == 1:
        return 0.0
    return max(0.001, float(wait))


def available(*, account_id: str, operation: str) -> tuple[int, float]:
    """(calls that `acquire` would grant right now, seconds until one frees when that is 0).

    Read-only: nothing is taken, so another worker may still win the slots. Jobs use it to size
    their work to the budget (claim only as many rows as calls can go now) instead of claiming
    thousands of rows and handing most of them back.
    """
    free, wait = _redis().eval(_PEEK, 1, _cool_down_key(account_id),
                               *_window_args(account_id, operation))
    return int(free), (0.0 if int(free) > 0 else max(0.001, float(wait)))


def cool_down(*, account_id: str, seconds: float) -> float:
    """Nobody calls this account before now + `seconds` (never shortens a longer cool-down).

    Returns the seconds left of the (possibly longer) cool-down now in force.
    """
    seconds = max(0.0, float(seconds))
    if seconds == 0:
        return 0.0
    return float(_redis().eval(_COOL_DOWN, 1, _cool_down_key(account_id), seconds))


def cool_down_after(*, account_id: str, retry_after: float | None) -> float:
    """Apply a 429: its own hint when present, else 1, 2, 4 ... 60 s for consecutive bare 429s."""
    if retry_after is not None and retry_after > 0:
        return cool_down(account_id=account_id, seconds=retry_after)
    client = _redis()
    key = _strikes_key(account_id)
    strikes = int(client.incr(key))
    client.expire(key, int(MAX_DEFAULT_COOL_DOWN * 2))
    return cool_down(account_id=account_id,
                     seconds=min(MAX_DEFAULT_COOL_DOWN, float(2 ** (strikes - 1))))


def cool_down_remaining(*, account_id: str) -> float:
    """Seconds left of the account's cool-down (0.0 when none)."""
    raw = _redis().get(_cool_down_key(account_id))
    if raw is None:
        return 0.0
    now_s, now_us = _redis().time()
    return max(0.0, float(raw) - (now_s + now_us / 1_000_000))


def cool_downs_remaining(*, account_ids: list[str]) -> dict[str, float]:
    """`cool_down_remaining` for many accounts in one Redis round trip (the support board:
    one page of shops costs one call, not one per shop). Accounts without one map to 0.0."""
    ids = [a for a in dict.fromkeys(account_ids) if a]
    if not ids:
        return {}
    pipe = _redis().pipeline(transaction=False)
    pipe.time()
    for account_id in ids:
        pipe.get(_cool_down_key(account_id))
    now_s, now_us = (replies := pipe.execute())[0]
    now = now_s + now_us / 1_000_000
    return {account_id: max(0.0, float(raw) - now) if raw is not None else 0.0
            for account_id, raw in zip(ids, replies[1:], strict=True)}


def cooling_down_count(*, account_ids: Iterable[str], chunk: int = 1000) -> int:
    """How many of `account_ids` are in a cool-down now: one MGET per `chunk` accounts and one
    TIME, not a round trip per account (the metrics endpoint asks for every connected one)."""
    client = _redis()
    now_s, now_us = client.time()
    now = now_s + now_us / 1_000_000
    ids = list(account_ids)
    cooling = 0
    for start in range(0, len(ids), chunk):
        keys = [_cool_down_key(account) for account in ids[start:start + chunk]]
        cooling += sum(1 for raw in client.mget(keys) if raw is not None and float(raw) > now)
    return cooling
