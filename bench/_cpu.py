"""CPU accounting for the benchmarks: what our workers, our PostgreSQL backends and the sandbox
used per 1,000 events, and how busy the whole (shared) machine was during the run."""

from __future__ import annotations

import os

from bench._common import Sandbox, Workers, children


def _stat_seconds(pid: int, columns: tuple[int, ...]) -> float:
    """The sum of /proc/<pid>/stat's time columns, in seconds (0.0 when the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(fields[i]) for i in columns) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (0.0 when it is gone)."""
    return _stat_seconds(pid, (11, 12))


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process, of its reaped children (cutime + cstime: forked work horses) and of
    every live descendant (the sandbox's gunicorn worker)."""
    return (_stat_seconds(pid, (11, 12, 13, 14))
            + sum(tree_cpu_seconds(child) for child in children(pid)))


def postgres_server_cpu() -> float:
    """CPU of the whole local PostgreSQL server and its backends (0.0 when not readable)."""
    try:
        with open("/var/lib/postgresql/15/main/postmaster.pid") as fh:
            pid = int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return tree_cpu_seconds(pid)


def reference_loop_ms() -> float:
    """CPU milliseconds of a fixed pure-Python loop: how fast this (shared, noisy) machine is
    right now. Printed by the benchmarks before and after a run, so a figure can be read
    against the machine's speed at the time (the same loop varies by a third on this VM)."""
    import time

    started = time.process_time()
    total = 0
    for i in range(5_000_000):
        total += i
    return (time.process_time() - started) * 1000


def system_ticks() -> tuple[int, int]:
    """(all, idle + iowait) jiffies from /proc/stat, to tell how busy the whole machine was."""
    with open("/proc/stat") as fh:
        values = [int(x) for x in fh.readline().split()[1:]]
    return sum(values), values[3] + values[4]


def pg_backends() -> list[int]:
    """Server pids of every connection to this bench's database (ours and the workers')."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return [row[0] for row in cursor.fetchall()]


class CpuMeter:
    """CPU seconds used by our workers, the sandbox and our PostgreSQL backends during a run,
    and how busy the whole machine was (other sessions share these 2 cores)."""

    def __init__(self, workers: Workers, sandbox: Sandbox) -> None:
        self.groups = {"workers": workers.worker_pids,
                       "sandbox": [sandbox.proc.pid, *children(sandbox.proc.pid)]}
        self.before: dict[int, float] = {}
        self.ticks = system_ticks()

    def start(self) -> CpuMeter:
        self.groups["postgres"] = pg_backends()
        pids = [p for group in self.groups.values() for p in group]
        self.before = {pid: cpu_seconds(pid) for pid in pids}
        self.ticks = system_ticks()
        return self

    def report(self, events: int) -> str:
        self.groups["postgres"] = sorted(set(self.groups["postgres"]) | set(pg_backends()))
        used = {name: sum(cpu_seconds(p) - self.before.get(p, 0.0) for p in pids)
                for name, pids in self.groups.items()}
        total, idle = system_ticks()
        busy = 1 - (idle - self.ticks[1]) / max(1, total - self.ticks[0])
        per = {name: 1000 * seconds / events * 1000 for name, seconds in used.items()}
        cost = sum(per.values())
        ours = per["workers"] + per["postgres"]
        return (f"CPU per 1,000 events: workers {per['workers']:.0f} ms, PostgreSQL "
                f"{per['postgres']:.0f} ms, sandbox {per['sandbox']:.0f} ms = {cost:.0f} ms; "
                f"the whole machine was {busy * 100:.0f}% busy (other sessions share it); "
                f"2 idle cores would allow ~{2000 / cost * 1000:,.0f} events/s at this cost, "
                f"~{2000 / ours * 1000:,.0f} events/s for our side alone (workers + "
                f"PostgreSQL, {ours:.0f} ms) if Klaviyo's work ran elsewhere, as it does")
