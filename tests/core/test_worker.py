"""The worker class every queue runs on: jobs run with the batch GC settings."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import django_rq
import pytest
from rq.job import JobStatus

from notifyme.core.gc_tuning import GC_GEN0_THRESHOLD
from notifyme.delivery import registry
from notifyme.delivery.worker import Worker, warm_up

ROOT = Path(__file__).resolve().parents[2]


def young_generation_threshold() -> int:
    return gc.get_threshold()[0]


def test_rqworker_runs_jobs_on_the_batch_worker_with_relaxed_gc() -> None:
    saved = gc.get_threshold()
    # Start from CPython's default whatever an earlier in-process worker left behind.
    gc.set_threshold(700, 10, 10)
    queue = django_rq.get_queue("default")
    job = queue.enqueue(young_generation_threshold)
    worker = django_rq.get_worker("default")  # what `manage.py rqworker` builds
    assert isinstance(worker, Worker)
    try:
        worker.work(burst=True)
    finally:  # the worker ran in this process: undo its freeze and threshold
        gc.unfreeze()
        gc.set_threshold(*saved)
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == GC_GEN0_THRESHOLD  # measured inside the job
    assert GC_GEN0_THRESHOLD > 700


def test_warm_up_imports_what_the_registered_handlers_name(monkeypatch: Any) -> None:
    """The worker asks the handler registry what to load before its first job."""
    monkeypatch.delitem(sys.modules, "json.tool", raising=False)
    monkeypatch.setattr(registry, "_handlers", {
        **registry._handlers,
        "probe": registry.Handler(name="probe", sweep=lambda: None, warm_up=("json.tool",)),
    })
    warm_up()
    assert "json.tool" in sys.modules
    assert {"notifyme.sync.jobs", "notifyme.restocks.jobs"} <= set(registry.warm_up_modules())


def scheduling_priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, 0)


@pytest.mark.parametrize(("setting", "expected"), [("", 10), ("0", 0), ("5", 5)])
def test_a_real_worker_process_runs_its_jobs_at_worker_nice(setting: str, expected: int) -> None:
    """`manage.py rqworker` (what production runs) lowers its own priority to WORKER_NICE
    (default 10), so on shared cores web requests go first; 0 leaves it as started."""
    queue = django_rq.get_queue("default", commit_mode="auto")
    job = queue.enqueue("tests.core.test_worker.scheduling_priority")
    env = {k: v for k, v in os.environ.items() if k != "WORKER_NICE"}
    if setting:
        env["WORKER_NICE"] = setting
    result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", "rqworker", "default", "--burst"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED, job.exc_info
    assert job.return_value() == max(expected, os.getpriority(os.PRIO_PROCESS, 0))
