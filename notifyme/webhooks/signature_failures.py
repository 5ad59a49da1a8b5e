"""Webhook signature failures, counted per shop per hour and globally, in Redis (bounded).

A refused delivery is not stored (nothing in it can be trusted), yet support must see "this
shop's webhooks fail their signature" on the board, in `doctor` and in /support/metrics. The
shop domain header of a refused delivery is *unverified*, so:
- it is counted under the claimed domain only when that shop exists (one indexed lookup), so a
  forger cannot create keys (or rows) for domains of its choosing;
- every failure also counts in a global counter, whoever it claims to be.
Keys are one counter per (shop, UTC hour) and one per hour globally, each expiring after
`KEEP_HOURS`, so storage is bounded by shops x 8 days of hours whatever the traffic. A Redis
outage loses counts, never the 401 answer (callers swallow the error).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from notifyme.core.redis import get_redis
from notifyme.shops.models import Shop

logger = logging.getLogger(__name__)

PREFIX = "wh:sigfail"
GLOBAL = "*"  # never a shop domain (not allowed in one)
KEEP_HOURS = 24 * 8  # 7 days of counts plus the partly elapsed hour
DAY_HOURS, WEEK_HOURS = 24, 24 * 7


def _key(domain: str, hour: datetime) -> str:
    return f"{PREFIX}:{domain}:{hour:%Y%m%d%H}"


def _hours(now: datetime, count: int) -> list[datetime]:
    start = now.replace(minute=0, second=0, microsecond=0)
    return [start - timedelta(hours=i) for i in range(count)]


def failure_record(*, claimed_domain: str, now: datetime) -> None:
    """Count one refused delivery: globally, and for the claimed shop if it exists."""
    domain = claimed_domain.strip().lower()[:255]
    known = bool(domain) and Shop.objects.filter(domain=domain).exists()
    hour = _hours(now, 1)[0]
    try:
        pipe = get_redis().pipeline(transaction=False)
        for name in ([GLOBAL, domain] if known else [GLOBAL]):
            key = _key(name, hour)
            pipe.incr(key)
            pipe.expire(key, KEEP_HOURS * 3600)
        pipe.execute()
    except Exception:  # counting is diagnostics: a Redis outage must not change the answer
        logger.warning("webhook signature failure not counted: Redis did not answer")


@dataclass(frozen=True)
class Failures:
    day: int
    week: int
    #: Start of the newest hour with a failure (counts are per hour, not per request).
    last_hour: datetime


def counts(*, domains: Sequence[str], now: datetime) -> dict[str, Failures]:
    """{domain: its failures in 24 h and 7 days} for the domains with any; `GLOBAL` is a valid
    domain here. One Redis round trip for the whole list."""
    names = list(dict.fromkeys(domains))
    if not names:
        return {}
    hours = _hours(now, WEEK_HOURS)
    values: list[Any] = list(get_redis().mget(  # type: ignore[arg-type]
        [_key(name, hour) for name in names for hour in hours]))
    found: dict[str, Failures] = {}
    for i, name in enumerate(names):
        per_hour = [int(v or 0) for v in values[i * WEEK_HOURS:(i + 1) * WEEK_HOURS]]
        if any(per_hour):
            newest = next(h for h, n in zip(hours, per_hour, strict=True) if n)
            found[name] = Failures(sum(per_hour[:DAY_HOURS]), sum(per_hour), newest)
    return found


def global_counts(*, now: datetime) -> Failures | None:
    """The failures of every claimed domain, known or not (None when there were none)."""
    return counts(domains=[GLOBAL], now=now).get(GLOBAL)
