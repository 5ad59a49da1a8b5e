"""Abuse defence for the storefront form: fixed-window rate limits in Redis.

Two limits, both fixed windows (one counter key per window, INCR + EXPIRE):

- per client address, across shops: `SUBSCRIBE_RATE_PER_IP` per
  `SUBSCRIBE_RATE_PER_IP_WINDOW_SECONDS`. The address is the `X-Forwarded-For` entry the
  trusted proxy chain appended (`NOTIFYME_TRUSTED_PROXY_HOPS` from the right, see `client_ip`),
  never one the client wrote; IPv4-mapped IPv6 counts as the IPv4 address and IPv6 is counted
  per /64 (one subscriber line holds a whole /64, so per-address limits would not hold);
- per contact per shop (HMAC of the normalised email / E.164 phone, never the contact itself):
  `SUBSCRIBE_RATE_PER_CONTACT` per `SUBSCRIBE_RATE_PER_CONTACT_WINDOW_SECONDS`
  (env `SUBSCRIBE_RATE_PER_CONTACT_WINDOW`).

Redis trouble never blocks a shopper: the check logs a warning and lets the request through
(the database constraints still stop duplicates).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import time
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.http import HttpRequest

from notifyme.core.redis import get_redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "notifyme:ratelimit:subscribe"
#: The windows' clock (seconds since the epoch); tests pin it to a known point of a window.
clock = time.time


@dataclass
class RateLimited(Exception):
    """A limit is exhausted; retry after `retry_after` seconds."""

    scope: str
    retry_after: int


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def trusted_proxy_hops() -> int:
    """How many trailing `X-Forwarded-For` entries our own proxy chain appended (0: none)."""
    return max(0, _setting("NOTIFYME_TRUSTED_PROXY_HOPS", 1))


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """One address from a header or REMOTE_ADDR: brackets, port and zone dropped, IPv4-mapped
    IPv6 as IPv4; None for anything that is not an address."""
    text = text.strip()
    if text.startswith("["):  # [v6] or [v6]:port
        text, closed, port = text[1:].partition("]")
        if not closed or (port and not port.startswith(":")):
            return None
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_ip(request: HttpRequest) -> str:
    """The client's address as the trusted proxy chain saw it, normalised; "unknown" if none.

    Each proxy appends the address it received the request from, so with N trusted hops the
    N-th entry from the right of `X-Forwarded-For` is the one our first trusted proxy (Shopify's
    app proxy) saw; everything left of it the client wrote itself. With fewer entries than
    hops, or no address in that entry, the request did not come through the chain as configured:
    fall back to the connecting peer (`REMOTE_ADDR`), which the client cannot choose.
    """
    hops = trusted_proxy_hops()
    if hops:
        # rsplit bounded by the hop count: a huge header costs no more than a short one.
        entries = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", hops)
        if len(entries) >= hops:
            address = _address(entries[-hops])
            if address is not None:
                return str(address)
    address = _address(str(request.META.get("REMOTE_ADDR", "")))
    return str(address) if address is not None else "unknown"


def ip_bucket(ip: str) -> str:
    """The rate-limit bucket for an address: the IPv4 address itself, or its IPv6 /64."""
    address = _address(ip)
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def contact_digest(*, shop_id: int, contact: str) -> str:
    """A keyed, non-reversible id for one contact at one shop (Redis never sees the address)."""
    message = f"{shop_id}:{contact}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


def _hit(client: redis.Redis, *, key: str, limit: int, window: int, now: float) -> int | None:
    """Count one hit in the current window; return seconds to wait when over the limit."""
    window_start = int(now // window) * window
    window_key = f"{key}:{window_start}"
    pipe = client.pipeline()
    pipe.incr(window_key)
    pipe.expire(window_key, window + 1)
    count = int(pipe.execute()[0])
    if count > limit:
        return max(1, window_start + window - int(now))
    return None


def _check(scope: str, key: str, *, limit: int, window: int, now: float | None) -> None:
    current = clock() if now is None else now
    try:
        retry_after = _hit(get_redis(), key=key, limit=limit, window=window, now=current)
    except (redis.RedisError, OSError):
        logger.warning("rate limit check (%s) skipped: Redis is unreachable", scope)
        return
    if retry_after is not None:
        raise RateLimited(scope=scope, retry_after=retry_after)


def subscribe_ip_check(*, ip: str, now: float | None = None) -> None:
    """Count a storefront submission from `ip` (its bucket); raise RateLimited when over."""
    _check(
        "ip", f"{KEY_PREFIX}:ip:{ip_bucket(ip)}",
        limit=_setting("SUBSCRIBE_RATE_PER_IP", 10),
        window=_setting("SUBSCRIBE_RATE_PER_IP_WINDOW_SECONDS", 60),
        now=now,
    )


def subscribe_contact_check(*, shop_id: int, contacts: list[str], now: float | None = None) -> None:
    """Count a submission for each contact (email, phone) at this shop; raise when over."""
    for contact in contacts:
        digest = contact_digest(shop_id=shop_id, contact=contact)
        _check(
            "contact", f"{KEY_PREFIX}:contact:{shop_id}:{digest}",
            limit=_setting("SUBSCRIBE_RATE_PER_CONTACT", 5),
            window=_setting("SUBSCRIBE_RATE_PER_CONTACT_WINDOW_SECONDS", 3600),
            now=now,
        )


def _delete_matching(pattern: str) -> int:
    client: Any = get_redis()
    deleted = 0
    for key in client.scan_iter(match=pattern, count=500):
        deleted += int(client.delete(key))
    return deleted


def subscribe_contact_forget(*, shop_id: int, contacts: list[str]) -> int:
    """Delete the per-contact rate-limit counters of these contacts at this shop (a privacy
    erasure: even a keyed digest links the windows to one shopper); returns keys deleted."""
    return sum(
        _delete_matching(f"{KEY_PREFIX}:contact:{shop_id}:"
                         f"{contact_digest(shop_id=shop_id, contact=contact)}:*")
        for contact in contacts if contact)


def subscribe_shop_forget(*, shop_id: int) -> int:
    """Delete every per-contact rate-limit counter of a shop (`shop/redact`)."""
    return _delete_matching(f"{KEY_PREFIX}:contact:{shop_id}:*")
