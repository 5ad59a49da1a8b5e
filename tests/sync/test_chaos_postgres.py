"""Chaos: restart PostgreSQL mid-backlog; workers and the sweeper must survive it.

Restarting the shared cluster would break everyone else's tests, so this test builds a private,
throwaway PostgreSQL cluster (initdb as the `postgres` user, a free loopback port, a temp data
dir), migrates and seeds it in subprocesses, and restarts *that* one (`pg_ctl restart -m fast`,
which drops every connection). Skipped when the PostgreSQL server binaries are not installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from notifyme.sync.profile_fields import SUBSCRIBED_METRIC
from tests.fixtures.sandbox import SandboxHandle

from .workers import ROOT, Worker, start_sweeper, start_workers, stop_workers, wait_until
from .workers import worker_env as base_env

pytestmark = [pytest.mark.chaos]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
N = 4000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(*args: str, timeout: float = 60) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True,  # noqa: S603,S607
                   timeout=timeout, capture_output=True)


class PrivateCluster:
    def __init__(self) -> None:
        self.port = _free_port()
        self.data = Path(tempfile.mkdtemp(prefix="notifyme-pg-chaos-"))
        shutil.chown(self.data, "postgres", "postgres")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/chaos"

    def pg_ctl(self, *args: str) -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data / "db"), "-w", "-t", "60",
                     "-l", str(self.data / "log"), *args,
                     "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1")

    def start(self) -> None:
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data / "db"), "-A", "trust",
                     "-U", "postgres", "--no-sync")
        self.pg_ctl("start")
        with psycopg.connect(f"postgres://postgres@127.0.0.1:{self.port}/postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE chaos")

    def stop(self) -> None:
        try:
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data / "db"), "-m",
                         "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.data, ignore_errors=True)

    def scalar(self, sql: str) -> int:
        try:
            with psycopg.connect(self.url, connect_timeout=2) as conn:
                row = conn.execute(sql).fetchone()
                return int(row[0]) if row else 0
        except psycopg.OperationalError:
            return -1


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    if not (PG_BIN / "initdb").exists() or os.geteuid() != 0:
        pytest.skip("needs the PostgreSQL 15 server binaries and root (to run as postgres)")
    private = PrivateCluster()
    try:
        private.start()
        yield private
    finally:
        private.stop()


def test_postgres_restart_mid_backlog(cluster: PrivateCluster,
                                      klaviyo_sandbox: SandboxHandle) -> None:
    account, key = klaviyo_sandbox.new_account("PG chaos")
    list_id = klaviyo_sandbox.admin.create_list(account["id"], "Back in Stock")
    # Without a delay the sync got faster than the restart window and finished before it.
    klaviyo_sandbox.admin.set_faults(account["id"], delay=0.4)
    env = base_env(DATABASE_URL=cluster.url, SYNC_LEASE_SECONDS="6", SYNC_BULK_CLAIM="400",
                   SYNC_IMPORT_FIRST_POLL_SECONDS="0.5", KLAVIYO_TIMEOUT_SECONDS="3")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,  # noqa: S603
                   check=True, capture_output=True, timeout=180)
    seed_env = {**env, "SEED_ACCOUNT_ID": account["id"], "SEED_KEY": key,
                "SEED_LIST_ID": list_id}
    seeded = subprocess.run([sys.executable, "-m", "tests.sync.pg_seed", str(N)], cwd=ROOT,  # noqa: S603
                            env=seed_env, check=True, capture_output=True, timeout=120)
    shop_id = int(seeded.stdout.decode().strip().splitlines()[-1])
    done_sql = "SELECT count(*) FROM sync_outboxitem WHERE state = 'done'"
    processes: list[Worker] = []
    try:
        processes += start_workers(3, env=env, with_scheduler=False)
        processes.append(start_sweeper(env, interval=2.0))
        subprocess.run([sys.executable, "manage.py", "shell", "-c",  # noqa: S603
                        f"from notifyme.sync.services import sync_nudge; "
                        f"sync_nudge(shop_id={shop_id})"],
                       cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)
        wait_until(lambda: cluster.scalar(done_sql) >= N // 10, timeout=60,
                   message="no progress before the restart")
        cluster.pg_ctl("restart", "-m", "fast")
        assert 0 <= cluster.scalar(done_sql) < N, "finished before the restart"
        wait_until(lambda: cluster.scalar(done_sql) == N, timeout=150, interval=0.5,
                   message="not all synced after the PostgreSQL restart")
        assert all(p.alive() for p in processes), [p.output() for p in processes
                                                    if not p.alive()]
    finally:
        stop_workers(processes, grace=5)
    time.sleep(0.1)
    stats = klaviyo_sandbox.admin.stats(account["id"])
    assert stats["profiles"] == N
    assert stats["list_members"][list_id] == N
    assert stats["events_by_metric"] == {SUBSCRIBED_METRIC: N}
    assert stats["subscriptions"] == N  # N/2 consenting x (email + sms)
