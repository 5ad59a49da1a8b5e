"""Redis through Sentinel: with REDIS_SENTINELS set, the app's own keys and the queues go to the
primary the sentinel names — REDIS_URL's host is not used (here it points nowhere), only its db.

A private redis-server and a real sentinel (`redis-server … --sentinel`) on free loopback
ports; a web-side enqueue and a rate-limit key from one process, `rqworker --burst` in another,
both configured only by the environment, as separate machines would be."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
MASTER = "notifyme-primary"
DB = 4

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is installed by .ci/run")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until(check: object, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except redis.RedisError:
            pass
        time.sleep(0.1)
    raise AssertionError(what)


@pytest.fixture
def sentinel(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """(primary port, sentinel port), both running until the test ends."""
    primary, watcher = _free_port(), _free_port()
    config = tmp_path / "sentinel.conf"  # a sentinel rewrites its own config file
    config.write_text(f"port {watcher}\nbind 127.0.0.1\n"
                      f"sentinel monitor {MASTER} 127.0.0.1 {primary} 1\n")
    processes = [
        subprocess.Popen(["redis-server", "--port", str(primary), "--bind", "127.0.0.1",  # noqa: S603, S607
                          "--save", "", "--appendonly", "no"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen(["redis-server", str(config), "--sentinel"],  # noqa: S603, S607
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        _until(lambda: redis.Redis(port=watcher).execute_command(
            "SENTINEL", "get-master-addr-by-name", MASTER),
               "the sentinel never named the primary")
        yield primary, watcher
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)


def test_the_app_and_its_workers_reach_redis_through_the_sentinel(
        sentinel: tuple[int, int]) -> None:
    primary_port, sentinel_port = sentinel
    dead_port = _free_port()  # nothing listens: only the sentinel can lead to the primary
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{dead_port}/{DB}",
           "REDIS_SENTINELS": f"127.0.0.1:{sentinel_port}", "REDIS_SENTINEL_MASTER": MASTER}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    web_side = ("import django_rq; from notifyme.core.redis import get_redis; "
                "get_redis().set('notifyme:sentinel-probe', 'yes'); "
                "job = django_rq.get_queue('default').enqueue('os.getpid'); print(job.id)")
    enqueued = subprocess.run(  # noqa: S603 - our manage.py, fixed arguments
        [sys.executable, "manage.py", "shell", "-c", web_side], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120, check=False)
    assert enqueued.returncode == 0, enqueued.stderr
    job_id = enqueued.stdout.strip().splitlines()[-1]
    worked = subprocess.run(  # noqa: S603 - our manage.py, fixed arguments
        [sys.executable, "manage.py", "rqworker", "default", "--burst"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120, check=False)
    assert worked.returncode == 0, worked.stderr

    primary = redis.Redis(port=primary_port, db=DB)
    assert primary.get("notifyme:sentinel-probe") == b"yes"
    assert primary.hget(f"rq:job:{job_id}", "status") == b"finished"
