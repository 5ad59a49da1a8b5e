"""A Redis restart does not end a worker: `manage.py rqworker --with-scheduler` on a Redis of
the test's own, Redis killed while a job runs (its bookkeeping then fails) and started again
empty; the same worker process runs the next job."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection as db_connection
from rq import Queue
from rq.job import Job, JobStatus

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
pytestmark = pytest.mark.chaos


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class PrivateRedis:
    """A redis-server only this test uses, so restarting it disturbs nobody."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.folder = tempfile.mkdtemp(prefix="notifyme-test-redis-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.client = redis.Redis(port=self.port)

    def answers(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - a fixed command
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.folder], stdout=subprocess.DEVNULL)
        _until(self.answers, 10, "redis-server")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


def _worker(port: int) -> subprocess.Popen[str]:
    db = db_connection.settings_dict
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{port}/0", "PYTHONPATH": str(ROOT),
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    return subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "manage.py", "rqworker", "default", "--with-scheduler"], cwd=ROOT,
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _finished(job: Job) -> bool:
    try:
        return job.get_status(refresh=True) == JobStatus.FINISHED
    except redis.RedisError:
        return False


def test_the_worker_rides_out_a_redis_restart(private_redis: PrivateRedis) -> None:
    worker = _worker(private_redis.port)
    try:
        queue = Queue("default", connection=private_redis.client)
        first = queue.enqueue("os.getpid")
        _until(lambda: _finished(first), 60, "the first job")
        pid = first.return_value()
        assert pid == worker.pid

        busy = queue.enqueue("time.sleep", 2)
        _until(lambda: busy.get_status(refresh=True) == JobStatus.STARTED, 30, "the long job")
        private_redis.stop()  # the job ends while Redis is gone: its bookkeeping fails
        time.sleep(4)
        private_redis.start()  # empty: nothing survived the restart

        after = queue.enqueue("os.getpid")
        _until(lambda: _finished(after) or worker.poll() is not None, 90, "the next job")
        assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
        assert after.return_value() == pid  # the same process, still working
    finally:
        worker.terminate()
        worker.wait(timeout=30)
