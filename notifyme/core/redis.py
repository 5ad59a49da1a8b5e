"""One Redis connection pool for the app's own keys (rate limits, limiter windows, cool-downs).

With REDIS_SENTINELS set the client asks the sentinels for the current primary (and again after
a failover); otherwise it connects to REDIS_URL. The queues (settings.RQ_QUEUES) follow the same
choice."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

import redis
from django.conf import settings
from redis.sentinel import Sentinel

# Short timeouts: a request must never hang on Redis; callers degrade instead.
TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 1.0}


@lru_cache(maxsize=4)
def _client(url: str, sentinels: tuple[tuple[str, int], ...], master: str) -> redis.Redis:
    if not sentinels:
        return redis.Redis.from_url(url, **TIMEOUTS)
    parts = urlsplit(url)
    sentinel = Sentinel(list(sentinels), sentinel_kwargs=TIMEOUTS, **TIMEOUTS)
    return sentinel.master_for(master, db=int(parts.path.strip("/") or 0),
                               username=parts.username, password=parts.password)


def get_redis() -> redis.Redis:
    return _client(settings.REDIS_URL, tuple(settings.REDIS_SENTINELS),
                   settings.REDIS_SENTINEL_MASTER)
