"""Real worker processes for chaos tests and benchmarks (shared by the sync and restock suites).

- `worker_env(**extra)`: the environment a subprocess needs to see *this* test's database (pytest
  -django's `test_<name>`), Redis and Klaviyo sandbox. Use with `transactional_db`, or the
  workers cannot see uncommitted rows.
- `start_workers(n, queues=("sync", "bulk"), env=None)` -> list of `Worker`s: each is
  `python manage.py rqworker <queues>` in its own process group, logging to a temp file.
- `kill_workers(workers)`: SIGKILL each group (parent *and* work horse), no warm shutdown.
- `stop_workers(workers)`: SIGTERM, then SIGKILL after a grace period; always bounded.
- `start_sweeper(env, interval=2.0)`: `python manage.py sync_sweeper` (same process handling).
- `wait_until(predicate, timeout, interval)`: poll until truthy; returns the value or raises.
Only loopback services, only processes started here are signalled (by their own pid/group).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


@dataclass
class Worker:
    """One started process (worker or sweeper) and its log file."""

    proc: subprocess.Popen[bytes]
    log: IO[bytes]
    name: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self, tail: int = 4000) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-tail:]


def database_url() -> str:
    """A DATABASE_URL for the database this test process is using right now."""
    s = connection.settings_dict
    auth = s.get("USER") or "postgres"
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or "5432"
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


def worker_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "KLAVIYO_API_URL": settings.KLAVIYO_API_URL,
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def _spawn(cmd: list[str], env: dict[str, str], name: str) -> Worker:
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,  # noqa: S603
                            start_new_session=True)
    return Worker(proc=proc, log=log, name=name)


def start_workers(n: int, queues: Iterable[str] = ("sync", "bulk"),
                  env: dict[str, str] | None = None, *, with_scheduler: bool = True,
                  worker_class: str | None = None) -> list[Worker]:
    env = env or worker_env()
    cmd = [sys.executable, "manage.py", "rqworker", *queues]
    if with_scheduler:
        cmd.append("--with-scheduler")
    if worker_class:
        cmd += ["--worker-class", worker_class]
    return [_spawn(cmd, env, f"worker-{i}") for i in range(n)]


def start_sweeper(env: dict[str, str] | None = None, *, interval: float = 2.0,
                  tick: float = 0.05) -> Worker:
    cmd = [sys.executable, "manage.py", "sync_sweeper", "--interval", str(interval),
           "--tick", str(tick)]
    return _spawn(cmd, env or worker_env(), "sweeper")


def kill_workers(workers: Iterable[Worker]) -> None:
    """SIGKILL each worker's whole process group (the parent and any work horse)."""
    for worker in workers:
        try:
            os.killpg(worker.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for worker in workers:
        try:
            worker.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def stop_workers(workers: Iterable[Worker], *, grace: float = 10.0) -> None:
    workers = list(workers)
    for worker in workers:
        if worker.alive():
            try:
                os.killpg(worker.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace
    for worker in workers:
        try:
            worker.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    kill_workers([w for w in workers if w.alive()])
    for worker in workers:
        worker.log.close()


def wait_until(predicate: Callable[[], T], timeout: float, interval: float = 0.2,
               message: str = "") -> T:
    """Poll `predicate()` until it returns something truthy; raise AssertionError on timeout."""
    deadline = time.monotonic() + timeout
    last: T = predicate()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout}s (last={last!r})")
        time.sleep(interval)
        last = predicate()
    return last
