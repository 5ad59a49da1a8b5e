"""One cost bucket per shop for every worker: Shopify's GraphQL leaky bucket, mirrored in Redis.

Contract
- `reserve(shop_domain=, cost=, document=)` takes `cost` points from the shop's bucket and
  returns `(Reservation, 0.0)`, or `(None, seconds)` to wait with nothing taken; a cost above
  the bucket's maximum raises `QueryTooCostly` (such a query is never sent: it could only ever
  be THROTTLED). Never sleeps; `AdminClient` does the waiting.
- `learn(reservation=, shop_domain=, throttle_status=)` after every response carrying
  `extensions.cost.throttleStatus`: the bucket becomes Shopify's own `maximumAvailable`,
  `currentlyAvailable` (minus other workers' reservations still in flight) and `restoreRate`.
  `release(reservation=, refund=)` for calls that got no such answer (refund only when the
  query surely never reached Shopify).
- `cost_estimate(document)` is the last `requestedQueryCost` Shopify reported for that document
  (`cost_learn`), else `DEFAULT_COST` (conservative: a page of products with variants costs
  a few hundred points), never less than 1.

Why it is shaped like this
- Shopify limits each app and store by a leaky bucket of calculated query cost (restore rate 100
  points/s on Standard plans up to 2000 on Enterprise; the size is whatever `maximumAvailable`
  says). All workers share it, so its level lives in Redis and every change is one Lua script
  run with Redis' clock. Until a shop's first answer the bucket assumes the older, smaller
  published defaults (1000 points, 50/s) so a cold start never overshoots.
- A reservation is charged at the *requested* cost before sending; Shopify charges the actual
  cost and refunds the rest, and the next `learn` picks that up.
- Keys: `sh:rl:{<shop>}` (hash) and `sh:rl:{<shop>}:pending` (sorted set), one hash slot per
  shop, expiring after twice a full refill, so a flushed Redis only forgets levels.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from integrations.shopify.errors import QueryTooCostly
from integrations.shopify.ratelimit_lua import LEARN as _LEARN
from integrations.shopify.ratelimit_lua import RELEASE as _RELEASE
from integrations.shopify.ratelimit_lua import RESERVE as _RESERVE
from notifyme.core.redis import get_redis

DEFAULT_MAXIMUM = 1000
DEFAULT_RESTORE_RATE = 50.0
DEFAULT_COST = 250
#: A reservation not settled within this many seconds lapses (the worker is presumed dead).
LEASE_SECONDS = 60.0
_COSTS_KEY = "sh:rl:costs"


@dataclass(frozen=True)
class Reservation:
    shop_domain: str
    member: str
    cost: int


@dataclass(frozen=True)
class Bucket:
    maximum: float
    available: float
    restore_rate: float


def _redis() -> Any:
    """The app's Redis client (typed loosely: redis-py's sync/async unions confuse mypy)."""
    return get_redis()


def _keys(shop_domain: str) -> tuple[str, str]:
    return f"sh:rl:{{{shop_domain}}}", f"sh:rl:{{{shop_domain}}}:pending"


def reserve(*, shop_domain: str, cost: int, document: str = "", guessed: bool = False,
            lease_seconds: float = LEASE_SECONDS) -> tuple[Reservation | None, float]:
    """Take `cost` points now, or say how long to wait (see the module contract).

    `guessed`: the cost is a default, not Shopify's figure, so above the bucket's maximum it is
    capped at the maximum rather than refused (Shopify's answer then tells the real cost).
    """
    cost = max(1, int(cost))
    member_id = uuid.uuid4().hex
    reply = _redis().eval(_RESERVE, 2, *_keys(shop_domain), cost, DEFAULT_MAXIMUM,
                          DEFAULT_RESTORE_RATE, member_id, lease_seconds,
                          "1" if guessed else "0")
    status = int(reply[0])
    if status == -1:
        raise QueryTooCostly(document=document, requested=cost, maximum=int(float(reply[1])))
    if status == 0:
        return None, max(0.001, float(reply[1]))
    taken = int(reply[2])
    return Reservation(shop_domain, f"{member_id}:{taken}", taken), 0.0


def learn(*, shop_domain: str, reservation: Reservation | None,
          throttle_status: Mapping[str, Any]) -> None:
    """Adopt Shopify's throttleStatus as the shop's bucket (settling `reservation`)."""
    try:
        maximum = float(throttle_status["maximumAvailable"])
        current = float(throttle_status["currentlyAvailable"])
        rate = float(throttle_status["restoreRate"])
    except (KeyError, TypeError, ValueError):
        release(reservation=reservation, refund=False)
        return
    if maximum <= 0 or rate <= 0:
        release(reservation=reservation, refund=False)
        return
    _redis().eval(_LEARN, 2, *_keys(shop_domain), reservation.member if reservation else "",
                  maximum, current, rate)


def release(*, reservation: Reservation | None, refund: bool) -> None:
    """Settle a reservation that got no throttleStatus back; `refund` gives its points back."""
    if reservation is None:
        return
    _redis().eval(_RELEASE, 2, *_keys(reservation.shop_domain), reservation.member,
                  DEFAULT_MAXIMUM, DEFAULT_RESTORE_RATE, reservation.cost if refund else 0)


def bucket(*, shop_domain: str) -> Bucket | None:
    """The stored level (as of its last update, not refilled), or None before any call."""
    raw = _redis().hmget(_keys(shop_domain)[0], "max", "avail", "rate")
    if raw[0] is None:
        return None
    return Bucket(float(raw[0]), float(raw[1]), float(raw[2]))


def cost_estimate(document: str) -> tuple[int, bool]:
    """(cost, guessed): the last requested cost Shopify reported for `document`, else
    (DEFAULT_COST, True)."""
    raw = _redis().hget(_COSTS_KEY, document)
    return (max(1, int(raw)), False) if raw is not None else (DEFAULT_COST, True)


def cost_learn(document: str, requested: Any) -> None:
    """Remember a document's `requestedQueryCost` for the next estimate."""
    try:
        value = int(float(requested))
    except (TypeError, ValueError):
        return
    if value > 0:
        _redis().hset(_COSTS_KEY, document, value)


def buckets(*, shop_domains: list[str]) -> dict[str, Bucket | None]:
    """`bucket` for many shops in one Redis round trip (the support board)."""
    domains = list(dict.fromkeys(shop_domains))
    if not domains:
        return {}
    pipe = _redis().pipeline(transaction=False)
    for domain in domains:
        pipe.hmget(_keys(domain)[0], "max", "avail", "rate")
    return {domain: Bucket(float(raw[0]), float(raw[1]), float(raw[2])) if raw[0] is not None
            else None for domain, raw in zip(domains, pipe.execute(), strict=True)}


#: Monotonic count of THROTTLED answers (HTTP 200 or 429) from Shopify, all shops together, for
#: the Prometheus endpoint (`notifyme_shopify_throttled_total`); a flushed Redis restarts it
#: at zero, which Prometheus reads as a counter reset.
THROTTLED_KEY = "sh:throttled:total"


def throttled_note() -> None:
    """Count one THROTTLED answer. Best effort: a Redis hiccup must not fail the call."""
    try:
        get_redis().incr(THROTTLED_KEY)
    except Exception:  # noqa: S110 - a lost count is harmless; the call's outcome is not
        pass


def throttled_total() -> int:
    raw: Any = get_redis().get(THROTTLED_KEY)
    return int(raw or 0)
