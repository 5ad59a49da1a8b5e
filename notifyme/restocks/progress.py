"""Live fan-out signals kept in Redis: events sent per second (for rate/ETA), "a job is alive",
"a materialiser is writing", chains that ran dry, and the claim hint.

Both are hints with short TTLs, never the truth (the database counters are): a flushed Redis
shows a rate of 0 for a minute and lets the sweeper re-nudge a restock one tick early. Writes
are best effort so a Redis hiccup never fails a chunk that Klaviyo already accepted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from notifyme.core.redis import get_redis
from notifyme.delivery import conf

logger = logging.getLogger(__name__)
RATE_WINDOW_SECONDS = 60


def _sent_key(restock_id: int, second: int) -> str:
    return f"restock:{restock_id}:sent:{second}"


def _alive_key(restock_id: int) -> str:
    return f"restock:{restock_id}:alive"


def record_sent(restock_id: int, count: int) -> None:
    if count <= 0:
        return
    key = _sent_key(restock_id, int(time.time()))
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.incrby(key, count)
        pipe.expire(key, RATE_WINDOW_SECONDS * 2 + 5)
        pipe.execute()
    except Exception:  # Redis down: the rate is a hint
        logger.debug("could not record restock rate", exc_info=True)


def rates(restock_ids: Iterable[int]) -> dict[int, float]:
    """Events per second over the last minute, per restock (0.0 when unknown)."""
    ids = list(restock_ids)
    if not ids:
        return {}
    now = int(time.time())
    seconds = range(now - RATE_WINDOW_SECONDS + 1, now + 1)
    keys = [_sent_key(rid, sec) for rid in ids for sec in seconds]
    try:
        values: list[Any] = list(get_redis().mget(keys))  # type: ignore[arg-type]
    except Exception:
        return {rid: 0.0 for rid in ids}
    out: dict[int, float] = {}
    for n, rid in enumerate(ids):
        chunk = values[n * RATE_WINDOW_SECONDS:(n + 1) * RATE_WINDOW_SECONDS]
        out[rid] = sum(int(v) for v in chunk if v) / RATE_WINDOW_SECONDS
    return out


def mark_alive(restock_id: int, seconds: float | None = None) -> None:
    try:
        get_redis().set(_alive_key(restock_id), "1",
                        ex=max(1, int(seconds or conf.restock_alive_seconds())))
    except Exception:
        logger.debug("could not mark restock alive", exc_info=True)


def is_alive(restock_id: int) -> bool:
    try:
        return bool(get_redis().exists(_alive_key(restock_id)))
    except Exception:
        return False


def _materialising_key(restock_id: int) -> str:
    return f"restock:{restock_id}:materialising"


def mark_materialising(restock_id: int) -> None:
    """A materialise job is writing this restock's deliveries (the sweeper leaves it alone)."""
    try:
        get_redis().set(_materialising_key(restock_id), "1", ex=conf.restock_alive_seconds())
    except Exception:
        logger.debug("could not mark restock materialising", exc_info=True)


def is_materialising(restock_id: int) -> bool:
    try:
        return bool(get_redis().exists(_materialising_key(restock_id)))
    except Exception:
        return False


def _starved_key(restock_id: int) -> str:
    return f"restock:{restock_id}:starved"


def note_starved(restock_id: int) -> None:
    """One fan-out chain of this restock ran out of written rows (see nudging.fanout_starved)."""
    key = _starved_key(restock_id)
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, 300)
        pipe.execute()
    except Exception:
        logger.debug("could not count a starved chain", exc_info=True)


def take_starved(restock_id: int) -> int:
    """How many chains ran dry since the last call (and reset the count)."""
    try:
        pipe = get_redis().pipeline(transaction=True)
        pipe.get(_starved_key(restock_id))
        pipe.delete(_starved_key(restock_id))
        raw: Any = pipe.execute()[0]
    except Exception:
        return 0
    return int(raw) if raw else 0


# -- claim hint ----------------------------------------------------------------------------
# Sent rows leave dead entries at the front of the pending index until VACUUM; a claim that
# always scans from the first position would skip more of them with every chunk (quadratic
# over a million rows). Claims therefore start after the hint (the highest position claimed)
# and fall back to a full scan only when that comes up short; the delayed nudge that follows
# rows handed back (retries, rate-limit waits) claims from the start, so they keep their
# place. Losing the hint (Redis flush) only costs one full scan.
_RAISE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return 1
"""


def _hint_key(restock_id: int) -> str:
    return f"restock:{restock_id}:claimed_upto"


def claim_hint(restock_id: int) -> int:
    try:
        raw: Any = get_redis().get(_hint_key(restock_id))
    except Exception:
        return 0
    return int(raw) if raw else 0


def raise_claim_hint(restock_id: int, position: int) -> None:
    try:
        get_redis().eval(_RAISE, 1, _hint_key(restock_id), str(position), "86400")
    except Exception:
        logger.debug("could not store the claim hint", exc_info=True)

