# ruff: noqa: S603, S607  (starts local processes with fixed arguments; loopback only)
"""A 10,000-subscriber restock fan-out through faults: each scenario ends in an exact count.

    .venv/bin/python bench/faults.py [--subscribers 10000] [--workers 3]
        [--scenarios clean,faults,sigkill,redis-restart]

Every scenario is one restock of `--subscribers` waiting shoppers at a fresh shop, fanned out by
real RQ worker processes and the sweeper to the Klaviyo sandbox, and ends with the same check:
each subscriber holds exactly one "Back in Stock" event (one per unique_id), the restock
completed with sent = total. Its time, from the stock write to the last event accepted, is
compared with the fault-free run's.

- `clean`: no fault (the reference time);
- `faults`: 20 % of requests fail — 500/502/503 and 429s (with `Retry-After` for the first half
  of the run, without it for the second), hangs past the client timeout, dropped connections;
- `sigkill`: every worker is SIGKILLed three times at random points and restarted;
- `redis-restart`: the bench's own Redis is stopped (its data lost, as after FLUSHALL) and
  started again mid-run; the workers wait for it (notifyme/delivery/worker.py) and the sweeper
  re-enqueues from PostgreSQL what the lost queues held, so the run takes up to one sweep
  interval (60 s) longer.

Fan-out chunks are 100 events (`RESTOCK_CHUNK_SIZE=100`) so there are 100 requests for the faults
to hit, and leases are short (`RESTOCK_LEASE_SECONDS=10`, `RESTOCK_ALIVE_SECONDS=3`,
`KLAVIYO_TIMEOUT_SECONDS=3`) so a killed worker's chunk is taken over within seconds; everything
else is the production configuration. The bench runs its own Redis server (a free loopback
port, no persistence) so it can restart it without touching anyone else's; PostgreSQL restarts
are proven by tests/sync/test_chaos_postgres.py on a private cluster. Database
notifyme_bench_faults; exit 1 when any scenario loses or duplicates an event.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _common as c

FAST = {"RESTOCK_CHUNK_SIZE": "100", "RESTOCK_LEASE_SECONDS": "10",
        "RESTOCK_ALIVE_SECONDS": "3", "KLAVIYO_TIMEOUT_SECONDS": "3", **c.NO_LIMITS}
FAULTS = {"error_rate": 0.14, "error_statuses": [429, 500, 502, 503], "hang_rate": 0.03,
          "hang_seconds": 8, "drop_rate": 0.03, "seed": 13}


class PrivateRedis:
    """A redis-server of the bench's own: restarting it disturbs nobody else."""

    def __init__(self) -> None:
        self.port = c.free_port()
        self.folder = tempfile.mkdtemp(prefix="notifyme-bench-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.folder], stdout=subprocess.DEVNULL)
        import redis

        client = redis.Redis(port=self.port)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        if not c.wait_until(up, timeout=10, interval=0.05):
            raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Pool:
    """RQ workers (killable and restartable) plus the sweeper."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.workers: list[subprocess.Popen[bytes]] = []
        self.sweeper = subprocess.Popen([c.PY, "manage.py", "sync_sweeper"], cwd=c.ROOT,
                                        env=dict(os.environ), stdout=subprocess.DEVNULL,
                                        stderr=c._log("sweeper"))
        self.start_workers()

    def start_workers(self) -> None:
        self.workers = [subprocess.Popen([c.PY, "manage.py", "rqworker", "sync", "bulk",
                                          "default", "--with-scheduler"], cwd=c.ROOT,
                                         env=dict(os.environ), stdout=subprocess.DEVNULL,
                                         stderr=c._log(f"worker-{i}"))
                        for i in range(self.count)]

    def kill_workers(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        for proc in self.workers:
            proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in [*self.workers, self.sweeper]:
            c._stop(proc, timeout=10)


def scenario_action(name: str, sandbox: c.Sandbox, account_id: str, pool: Pool,
                    redis_server: PrivateRedis, progress: Callable[[], int],
                    total: int) -> Callable[[], str]:
    """What the scenario does while the fan-out runs; returns a note for the report."""
    rng = random.Random(7)

    def wait_for(fraction: float) -> None:
        c.wait_until(lambda: progress() >= int(total * fraction), timeout=600, interval=0.05)

    def clean() -> str:
        return "no faults"

    def faults() -> str:
        sandbox.admin.set_faults(account_id, **FAULTS, retry_after=True, retry_after_seconds=1)
        wait_for(0.5)
        served = sandbox.admin.stats(account_id)["faults_served"]
        sandbox.admin.set_faults(account_id, **FAULTS, retry_after=False)
        return f"{served} faults served in the first half (429s with Retry-After), then without"

    def sigkill() -> str:
        points = sorted(rng.uniform(0.05, 0.9) for _ in range(3))
        for point in points:
            wait_for(point)
            pool.kill_workers()
            time.sleep(rng.uniform(0.2, 2.0))
            pool.start_workers()
        return "every worker SIGKILLed at " + ", ".join(f"{p:.0%}" for p in points)

    def redis_restart() -> str:
        wait_for(0.3)
        redis_server.stop()
        time.sleep(2.0)
        redis_server.start()
        return "Redis stopped (data lost) for 2 s at 30 % and started again"

    actions = {"clean": clean, "faults": faults, "sigkill": sigkill,
               "redis-restart": redis_restart}
    return actions[name]


def run(name: str, k: int, sandbox: c.Sandbox, redis_server: PrivateRedis,
        args: argparse.Namespace) -> tuple[bool, float]:
    from notifyme.catalog.services import variant_update_stock
    from notifyme.restocks.models import Restock
    from notifyme.restocks.services import detection_of

    shop, variant, account_id = c.make_shop_connected(
        sandbox, domain=f"faults-{k}.myshopify.com", name=f"Faults {name}")
    c.bulk_subscribers(shop, variant, args.subscribers, prefix=f"f{k}")

    def progress() -> int:
        return int(sandbox.admin.stats(account_id)["events"])

    pool = Pool(args.workers)
    try:
        time.sleep(2.0)  # let the workers import Django and register
        action = scenario_action(name, sandbox, account_id, pool, redis_server, progress,
                                 args.subscribers)
        started = time.monotonic()
        restock = detection_of(variant_update_stock(variant=variant, quantity=10)).restock
        assert restock is not None
        note = action()
        done = c.wait_until(lambda: progress() >= args.subscribers, timeout=args.timeout,
                            interval=0.1)
        took = time.monotonic() - started
        sandbox.admin.clear_faults(account_id)
        c.wait_until(lambda: Restock.objects.get(pk=restock.pk).state == "completed",
                     timeout=120, interval=0.5)
    finally:
        pool.stop()
    restock = Restock.objects.get(pk=restock.pk)
    per_id = Counter(e["unique_id"] for e in
                     sandbox.admin.events(account_id, metric="Back in Stock"))
    lost = args.subscribers - len(per_id)
    dupes = sum(1 for n in per_id.values() if n > 1)
    ok = (done and lost == 0 and dupes == 0 and restock.state == "completed"
          and restock.sent == restock.total == args.subscribers)
    print(f"{name}: {len(per_id):,} of {args.subscribers:,} notified in {took:.1f} s; lost "
          f"{lost}, duplicated {dupes}; restock {restock.state}, sent {restock.sent:,} of "
          f"{restock.total:,} ({note}) -> {c.verdict(ok)}", flush=True)
    return ok, took


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--scenarios", default="clean,faults,sigkill,redis-restart")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    redis_server = PrivateRedis()
    redis_server.start()
    c.REDIS_BASE = f"redis://127.0.0.1:{redis_server.port}"
    c.setup_env("notifyme_bench_faults", 0, extra=FAST)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"{args.workers} workers; {args.subscribers:,} subscribers per scenario")
    sandbox = c.Sandbox.start(limits=False)
    results: dict[str, tuple[bool, float]] = {}
    try:
        for k, name in enumerate(names, start=1):
            results[name] = run(name, k, sandbox, redis_server, args)
    finally:
        sandbox.stop()
        redis_server.stop()
    reference = results.get("clean", (True, 0.0))[1]
    for name, (_, took) in results.items():
        ratio = f"{took / reference:.2f}x the fault-free run" if reference else "no reference"
        print(f"  {name:>14}: {took:6.1f} s ({ratio})")
    ok = all(passed for passed, _ in results.values())
    print(f"every scenario: every subscriber notified exactly once -> faults: {c.verdict(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
