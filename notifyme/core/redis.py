"""One Redis connection pool for the app's own keys (rate limits, limiter windows, cool-downs)."""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    # Short timeouts: a request must never hang on Redis; callers degrade instead.
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1.0)


def get_redis() -> redis.Redis:
    return _client(settings.REDIS_URL)
