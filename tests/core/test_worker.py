"""The worker class every queue runs on: jobs run with the batch GC settings."""

from __future__ import annotations

import gc

import django_rq
from rq.job import JobStatus

from notifyme.core.gc_tuning import GC_GEN0_THRESHOLD
from notifyme.delivery.worker import Worker


def young_generation_threshold() -> int:
    return gc.get_threshold()[0]


def test_rqworker_runs_jobs_on_the_batch_worker_with_relaxed_gc() -> None:
    saved = gc.get_threshold()
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
    assert GC_GEN0_THRESHOLD > saved[0]
