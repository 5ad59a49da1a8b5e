"""Abuse defence for the storefront form: fixed-window rate limits in Redis.

Two limits, both fixed windows (one counter key per window, INCR + EXPIRE):

- per client IP (`X-Forwarded-For` first hop, which Shopify's proxy sets to the shopper's IP;
  else `REMOTE_ADDR`), across shops: `SUBSCRIBE_RATE_PER_IP` per
  `SUBSCRIBE_RATE_PER_IP_WINDOW_SECONDS`;
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


def client_ip(request: HttpRequest) -> str:
    """The shopper's IP: the first `X-Forwarded-For` hop when it is an IP, else REMOTE_ADDR."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    first = forwarded.split(",", 1)[0].strip()
    if first:
        try:
            return str(ipaddress.ip_address(first))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR", "") or "unknown"


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
    """Count a storefront submission from `ip`; raise RateLimited when over the limit."""
    _check(
        "ip", f"{KEY_PREFIX}:ip:{ip}",
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
