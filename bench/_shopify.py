# ruff: noqa: S603  (starts gunicorn with fixed arguments; loopback only)
"""Shopify-side helpers for the webhook benchmarks: the app under gunicorn, a mirrored catalog,
signed `inventory_levels/update` deliveries.

`AppServer.start(workers=)` serves the app exactly as production does: `gunicorn` from the
checkout's root reads `gunicorn.conf.py` (WSGI app, access log through the redacting logger),
only the bind address and worker count are given on the command line, with the environment
`_common.setup_env` exported (DEBUG off, generated secrets, PostgreSQL, Redis).
`catalog_shop(...)` installs a shop through `shop_install` and mirrors one published product with
N variants, each with an inventory item id and a level of 0 at one location.
`level_delivery(...)` is one delivery as Shopify sends it: the REST payload as compact JSON and
its headers, `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of those bytes with the app secret
(`integrations.shopify.signatures.webhook_signature`).
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPConnection
from typing import Any

from bench import _common as c
from bench._cpu import cpu_seconds

PATH = "/webhooks/shopify"
LOCATION_ID = 655441491
ITEM_BASE = 4_470_000_000_000
VARIANT_BASE = 44_000_000_000_000
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class AppServer:
    url: str
    port: int
    proc: subprocess.Popen[bytes]

    @classmethod
    def start(cls, *, workers: int | None = None, threads: int | None = None) -> AppServer:
        """gunicorn.conf.py's sizing unless `workers` / `threads` override it."""
        port = c.free_port()
        cmd = [c.PY, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
        if workers:
            cmd += ["--workers", str(workers)]
        else:
            workers = int(runpy.run_path(str(c.ROOT / "gunicorn.conf.py"))["workers"])
        if threads:
            cmd += ["--threads", str(threads)]
        # The access log (on in production) goes to a file when BENCH_LOG_DIR is set.
        proc = subprocess.Popen(cmd, cwd=c.ROOT, env=dict(os.environ), stdout=c._log("access"),
                                stderr=c._log("gunicorn"))
        server = cls(f"http://127.0.0.1:{port}", port, proc)
        if not (c.wait_until(server.healthy, timeout=120, interval=0.2)
                and server.wait_booted(workers, timeout=120)):
            server.stop()
            raise RuntimeError("gunicorn did not start (set BENCH_LOG_DIR to see its log)")
        return server

    def wait_booted(self, workers: int, *, timeout: float) -> bool:
        """Every worker has loaded the app: gunicorn forks them before they import Django,
        and the first one answering does not mean the others are ready (on this loaded
        2-core machine an import takes seconds). A booted, idle sync worker uses no CPU, so
        wait until there are `workers` children whose CPU time stays flat for a second."""
        deadline = time.monotonic() + timeout
        last: dict[int, float] = {}
        while time.monotonic() < deadline:
            kids = c.children(self.proc.pid)
            now = {pid: cpu_seconds(pid) for pid in kids}
            if len(kids) >= workers and now == {p: last.get(p) for p in kids}:
                return True
            last = now
            time.sleep(1.0)
        return False

    def healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.proc.returncode}")
        try:
            conn = HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", PATH)
            status = conn.getresponse().status
            conn.close()
            return status == 405  # the intake answers GET with 405: Django is up
        except OSError:
            return False

    @property
    def pids(self) -> list[int]:
        return [self.proc.pid, *c.children(self.proc.pid)]

    def stop(self) -> None:
        c._stop(self.proc, timeout=15)


def catalog_shop(*, domain: str, variants: int, name: str = "Webhook Bench") -> tuple[Any, list]:
    """(shop, variants): an installed shop, one published product, `variants` variants at 0."""
    from notifyme.catalog.models import InventoryLevel, Location, Product, Variant
    from notifyme.shops.services import shop_install

    shop = shop_install(domain=domain, name=name)
    product = Product.objects.create(shop=shop, shopify_id=8_100_000_000_001, title="Wool Coat",
                                     handle="wool-coat", status="active", published_online=True,
                                     shopify_updated_at=T0,
                                     image_url="https://cdn.example.com/coat.jpg")
    location = Location.objects.create(shop=shop, shopify_id=LOCATION_ID, name="Warehouse")
    rows = Variant.objects.bulk_create([
        Variant(shop=shop, product=product, shopify_id=VARIANT_BASE + i, title=f"Size {i}",
                sku=f"COAT-{i}", price="129.00", available_quantity=0,
                inventory_item_id=ITEM_BASE + i, shopify_updated_at=T0)
        for i in range(variants)])
    InventoryLevel.objects.bulk_create([
        InventoryLevel(shop=shop, variant=v, location=location, available=0,
                       shopify_updated_at=T0) for v in rows])
    return shop, rows


def level_delivery(*, secret: str, domain: str, inventory_item_id: int, available: int,
                   updated_at: datetime, webhook_id: str | None = None) -> tuple[bytes, dict]:
    """One signed `inventory_levels/update` delivery: (raw body, HTTP headers)."""
    from integrations.shopify.signatures import webhook_signature

    payload = {"inventory_item_id": inventory_item_id, "location_id": LOCATION_ID,
               "available": available, "updated_at": updated_at.isoformat(),
               "admin_graphql_api_id":
                   f"gid://shopify/InventoryLevel/{LOCATION_ID}?inventory_item_id="
                   f"{inventory_item_id}"}
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "inventory_levels/update",
        "X-Shopify-Hmac-Sha256": webhook_signature(body, secret),
        "X-Shopify-Shop-Domain": domain,
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    return body, headers


def post(port: int, body: bytes, headers: dict, *, timeout: float = 10) -> int:
    """One POST to the intake on a fresh connection; the status."""
    conn = HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", PATH, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()
