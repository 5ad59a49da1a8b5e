# ruff: noqa: S603, S607  (starts local processes with fixed arguments; loopback only)
"""Shared helpers for the benchmarks (loopback only, every child process bounded and stopped).

A benchmark calls `setup_env(db_name, redis_db)` BEFORE importing Django models: it points
DATABASE_URL / REDIS_URL at the bench's own database and Redis db, recreates and migrates the
database, then `django.setup()`. `Sandbox.start(limits=...)` runs the Klaviyo sandbox on a free
port; `Workers.start(n)` runs RQ workers (`sync` before `bulk`) plus the sync sweeper, all as
subprocesses with the same environment. `bulk_subscribers` inserts N subscriptions with one
INSERT … SELECT generate_series (PostgreSQL).
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PG_BASE = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_BASE = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
# With the sandbox's limits off, our own limiter must not enforce Klaviyo's published numbers
# either (it would cap Bulk Create Events at 10/s and 135/min): scale its windows way up.
NO_LIMITS = {"KLAVIYO_RATE_FACTOR_BURST": "1000", "KLAVIYO_RATE_FACTOR_STEADY": "1000"}
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Benchmarks measure the app as it runs in production: DEBUG off (no query-logging cursor),
# no dev tools; the secrets are throwaway values made for this run.
PRODUCTION_LIKE = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "localhost,127.0.0.1",
    "SHOPIFY_API_KEY": "bench-client-id",
    "SHOPIFY_API_SECRET": secrets.token_hex(32),
    "NOTIFYME_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    "NOTIFYME_DEV_TOOLS": "0",
    "SECURE_SSL_REDIRECT": "0",
}


def setup_env(db_name: str, redis_db: int, *, extra: dict[str, str] | None = None) -> None:
    """Fresh database + flushed Redis db for this bench, env exported, Django set up."""
    os.environ["DATABASE_URL"] = f"{PG_BASE}/{db_name}"
    os.environ["REDIS_URL"] = f"{REDIS_BASE}/{redis_db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notifyme.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.update(PRODUCTION_LIKE)
    os.environ.update(extra or {})
    admin_url = f"{PG_BASE}/postgres"
    for sql in (f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)',
                f'CREATE DATABASE "{db_name}"'):
        subprocess.run(["psql", admin_url, "-q", "-c", sql], check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    import redis

    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    import django

    django.setup()


def wait_until(check: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


@dataclass
class Sandbox:
    url: str
    proc: subprocess.Popen[bytes]
    admin: Any

    @classmethod
    def start(cls, *, limits: bool, threads: int = 16) -> Sandbox:
        from sandboxes.klaviyo.admin import SandboxAdmin

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        cmd = [PY, "-m", "sandboxes.klaviyo", "--host", "127.0.0.1", "--port",
               str(port), "--threads", str(threads)]
        if not limits:
            cmd.append("--no-rate-limits")
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=tempfile.TemporaryFile())
        admin = SandboxAdmin(url, timeout=120)
        ok = wait_until(lambda: _healthy(admin), timeout=30, interval=0.1)
        if not ok:
            proc.kill()
            raise RuntimeError("sandbox did not start")
        _prioritize(proc.pid)
        os.environ["KLAVIYO_API_URL"] = url
        from django.conf import settings

        settings.KLAVIYO_API_URL = url
        return cls(url, proc, admin)

    def stop(self) -> None:
        _stop(self.proc)


def _prioritize(pid: int) -> None:
    """Run the sandbox (and its gunicorn worker) ahead of our own processes.

    It stands in for Klaviyo, whose CPU is not ours: on this 2-core machine it would otherwise
    compete with our workers and PostgreSQL for the same cores, and being one process that
    handles an account's requests one at a time, its queue would be measured as our slowness.
    Best effort (needs the privilege to raise priority)."""
    for target in [pid, *children(pid)]:
        try:
            os.setpriority(os.PRIO_PROCESS, target, -10)
        except (PermissionError, ProcessLookupError, OSError):
            pass


def _healthy(admin: Any) -> bool:
    try:
        admin.health()
        return True
    except Exception:
        return False


def _stop(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@dataclass
class Workers:
    """RQ workers on `sync` then `bulk`, plus the sync engine's sweeper process, all as in
    production (the sweeper with its defaults: delayed nudges every 0.1 s, a database sweep
    with the restock hook every minute)."""

    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def start(cls, count: int, *, worker_class: str = "",
              queues: tuple[str, ...] = ("sync", "bulk"),
              options: tuple[str, ...] = ()) -> Workers:
        env = dict(os.environ)
        procs = []
        for i in range(count):
            cmd = [PY, "manage.py", "rqworker", *queues, *options]
            if worker_class:
                cmd += ["--worker-class", worker_class]
            procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                          stderr=_log(f"worker-{i}")))
        sweeper = [PY, "manage.py", "sync_sweeper"]
        procs.append(subprocess.Popen(sweeper, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                      stderr=_log("sweeper")))
        time.sleep(1.5)  # let them import Django and register
        return cls(procs)

    def wait_registered(self, *, timeout: float = 60) -> bool:
        """Wait until every RQ worker has registered in Redis (on a loaded machine importing
        Django takes longer than the fixed pause above); True when they all did."""
        from django_rq import get_connection
        from rq import Worker

        count = len(self.procs) - 1
        return wait_until(lambda: Worker.count(connection=get_connection("sync")) >= count,
                          timeout=timeout, interval=0.1)

    @property
    def worker_pids(self) -> list[int]:
        return [p.pid for p in self.procs[:-1]]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _log(name: str) -> Any:
    """Where a child's stderr goes: $BENCH_LOG_DIR/<name>.log when set, else nowhere."""
    folder = os.environ.get("BENCH_LOG_DIR")
    if not folder:
        return subprocess.DEVNULL
    Path(folder).mkdir(parents=True, exist_ok=True)
    return open(Path(folder) / f"{name}.log", "ab")


def make_shop_connected(sandbox: Sandbox, *, domain: str, name: str) -> tuple[Any, Any, str]:
    """(shop, variant sold out, account id): a shop connected to a new sandbox account."""
    from integrations.klaviyo.services import connection_connect
    from notifyme.catalog.models import Product, Variant
    from notifyme.shops.models import Shop

    shop = Shop.objects.create(domain=domain, name=name)
    product = Product.objects.create(shop=shop, shopify_id=9001, title="Linen Shirt",
                                     handle="linen-shirt",
                                     image_url="https://cdn.example.com/shirt.jpg")
    variant = Variant.objects.create(shop=shop, product=product, shopify_id=4001, title="Large",
                                     sku="SKU-4001", price="49.00", available_quantity=0)
    account = sandbox.admin.create_account(name)
    key = sandbox.admin.create_key(account["id"], "all")
    connection_connect(shop=shop, private_key=key)
    return shop, variant, account["id"]


def bulk_subscribers(shop: Any, variant: Any, count: int, *, prefix: str = "b") -> float:
    """Insert `count` active subscriptions in one statement; returns seconds taken."""
    from django.db import connection

    from notifyme.subscriptions.models import Subscription

    table = Subscription._meta.db_table
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (shop_id, variant_id, email, phone, first_name, "  # noqa: S608
            "notify_by_email, notify_by_sms, marketing_consent, consent_text_version, source, "
            "locale, quantity_wanted, status, sync_state, sync_error, klaviyo_profile_id, "
            "unsubscribe_token, created_at, updated_at) "
            "SELECT %s, %s, %s || g || '@bench.example.com', '', '', true, false, (g %% 2 = 0), "
            "'', 'demo', '', 1, 'active', 'synced', '', '', md5(%s || g), "
            "now() - make_interval(secs => %s - g), now() FROM generate_series(1, %s) g",
            [shop.pk, variant.pk, f"{prefix}{shop.pk}-", f"{prefix}{shop.pk}", count, count],
        )
    return time.monotonic() - started


def proc_status(pid: int, field_name: str) -> int:
    """A kB figure from /proc/<pid>/status (VmRSS, VmHWM); 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0
    return 0


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except (FileNotFoundError, PermissionError):
        return []


def add_worker_arguments(parser: argparse.ArgumentParser, *, workers: int) -> None:
    """`--workers N` and `--worker-class`, the same in every bench that starts workers."""
    parser.add_argument("--workers", type=int, default=workers)
    parser.add_argument("--worker-class", default="",
                        help="default: the settings' worker class"
                             " (notifyme.delivery.worker.Worker);"
                             " e.g. rq.Worker to fork a work horse per job")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
