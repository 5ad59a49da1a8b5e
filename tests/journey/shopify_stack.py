"""The whole product as real processes, with Shopify played by the stand-in (journey tests).

`ShopifyStack` starts the web process (`manage.py runserver --noreload`, the same command
`make run` uses), one RQ worker on every queue the app uses (`sync`, `bulk`, `default`; the
webhook lane is `sync`, catalog sync and reconciliation are `bulk`) with its scheduler, and the
sweeper. Each logs to its own file (`.logs()` returns them all, for the "nothing of a redacted
shopper in the logs" checks). The session-wide Klaviyo sandbox and Shopify stand-in
(tests/fixtures) are the outside world: the stand-in's webhooks go to the web process
(`config(app_url=...)`), the app reaches the stand-in through `SHOPIFY_ADMIN_URL`.

`StandinMerchant` is the Shopify admin opening the embedded app: every request carries a fresh
ID token minted by the stand-in (signed with the app secret, as Shopify's App Bridge does).
"""

from __future__ import annotations

import socket
import sys
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import requests
from django.db import connection

from notifyme.core.redis import get_redis
from sandboxes.shopify.admin import StandinAdmin
from tests.sync.workers import (
    Worker,
    _spawn,
    start_sweeper,
    start_workers,
    stop_workers,
    wait_until,
    worker_env,
)

WAIT = 90.0
QUEUES = ("sync", "bulk", "default")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ShopifyStack:
    """Web + worker + sweeper processes wired to the Klaviyo sandbox and the Shopify stand-in."""

    def __init__(self, *, standin_url: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = worker_env(SHOPIFY_ADMIN_URL=f"{standin_url}/{{shop}}",
                              SHOPIFY_APP_URL=self.url, **env)
        self.processes: list[Worker] = []

    def start(self) -> None:
        web = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"]
        self.processes.append(_spawn(web, self.env, "web"))
        self.processes += start_workers(1, queues=QUEUES, env=self.env)
        self.processes.append(start_sweeper(self.env, interval=1.0))
        self.wait(self._web_up, "the web process never answered")

    def _web_up(self) -> bool:
        try:
            requests.get(f"{self.url}/healthz", timeout=1)
        except requests.RequestException:
            return False
        return True

    def stop(self) -> None:
        stop_workers(self.processes, grace=10)

    def logs(self) -> str:
        return "".join(f"\n--- {p.name}\n{p.output(10**9)}" for p in self.processes)

    def wait(self, predicate: Callable[[], object], what: str, timeout: float = WAIT) -> Any:
        """Poll `predicate` (bounded); on timeout fail with `what` and the processes' log tails."""
        try:
            return wait_until(predicate, timeout=timeout, interval=0.25)
        except AssertionError:
            tails = "".join(f"\n--- {p.name} (alive={p.alive()})\n{p.output(2500)}"
                            for p in self.processes)
            raise AssertionError(f"{what}{tails}") from None


class StandinMerchant:
    """The embedded admin: `GET /app/` and the JSON API with fresh stand-in ID tokens."""

    def __init__(self, app_url: str, admin: StandinAdmin, shop_domain: str) -> None:
        self.app_url = app_url
        self.admin = admin
        self.shop_domain = shop_domain

    def open_app(self) -> requests.Response:
        token = self.admin.mint_id_token(self.shop_domain)
        return requests.get(f"{self.app_url}/app/", params={
            "id_token": token, "shop": self.shop_domain, "embedded": "1"}, timeout=60)

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.admin.mint_id_token(self.shop_domain)}"}
        return requests.request(method, f"{self.app_url}/app/api/{path}", json=body,
                                headers=headers, timeout=60)

    def catalog_sync(self) -> dict[str, Any]:
        return self.call("GET", "catalog/sync").json().get("sync") or {}

    def restocks(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "restocks").json()["restocks"])


def database_text() -> str:
    """Every row of every table of the test database, as text (what a dump would show)."""
    chunks: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - introspected names
            chunks.append(f"{table}: {cursor.fetchall()!r}")
    return "\n".join(chunks)


def _readable(raw: bytes) -> str:
    """Bytes as text, and decompressed too when they are zlib data (RQ compresses job data)."""
    texts = [raw.decode(errors="replace")]
    try:
        texts.append(zlib.decompress(raw).decode(errors="replace"))
    except zlib.error:
        pass
    return "\n".join(texts)


def _redis_values(redis: Any, key: bytes) -> Iterator[bytes]:
    kind = redis.type(key).decode()
    if kind == "string":
        yield redis.get(key) or b""
    elif kind == "hash":
        for field, value in redis.hgetall(key).items():
            yield field
            yield value
    elif kind == "list":
        yield from redis.lrange(key, 0, -1)
    elif kind == "set":
        yield from redis.smembers(key)
    elif kind == "zset":
        yield from redis.zrange(key, 0, -1)
    elif kind == "stream":
        for _id, fields in redis.xrange(key):
            for field, value in fields.items():
                yield field
                yield value


def redis_text() -> str:
    """Every key and every value of the app's Redis database, as text."""
    redis = get_redis()
    chunks: list[str] = []
    for key in redis.scan_iter(count=500):
        chunks.append(_readable(key))
        chunks.extend(_readable(value) for value in _redis_values(redis, key))
    return "\n".join(chunks)
