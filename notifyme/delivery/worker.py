"""The RQ worker every queue runs on (settings.RQ["WORKER_CLASS"]; `manage.py rqworker`).

Jobs run in the worker process itself (rq's SimpleWorker), not in a work horse forked per job.
Our jobs are short and many — a backlog of 100,000 subscribers is 25-30 `sync_shop` jobs, a
fan-out one job per chunk — and each fork cost the job a copy-on-write warm-up of the worker's
memory, new Redis and PostgreSQL connections and, on the database, a new backend (the workers'
CPU in `bench/backlog.py` dropped markedly without it). What the fork
gave is kept by other means: job timeouts are still enforced (SIGALRM in the worker process),
database connections are checked around every job as Django does around a web request, and a
worker's memory stays flat (`bench/memory.py` watches it over a 1,000,000-subscriber fan-out).
"""

from __future__ import annotations

import gc
import importlib
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from django.conf import settings
from django.db import close_old_connections
from rq.worker import SimpleWorker

from notifyme.core import logcontext
from notifyme.core.gc_tuning import relax_gc
from notifyme.delivery import registry


def warm_up() -> None:
    """Load what every job needs before the first job, not inside it: the job modules every
    registered kind of work names (`registry.Handler.warm_up`). Inside the first job this cost
    each worker a noticeable fraction of a CPU-second in bench/backlog.py, at the very moment
    all the workers start on a fresh backlog together."""
    for module in registry.warm_up_modules():
        importlib.import_module(module)


def yield_cpu_to_web() -> None:
    """Run at the scheduling priority `WORKER_NICE` (default 10; 0 leaves it alone): where
    workers share cores with the web processes, a request waiting for a core goes first and a
    job takes what is left. Background work is throughput, a request is latency: a burst of
    10,000 webhooks answered while its own processing ran beside it on two cores had its p99
    doubled by the workers (bench/webhook_burst.py). On idle cores it changes nothing.
    Absolute, so calling it again (a second in-process worker) does not lower it further."""
    wanted = int(getattr(settings, "WORKER_NICE", 0))
    if wanted > os.getpriority(os.PRIO_PROCESS, 0):
        os.setpriority(os.PRIO_PROCESS, 0, wanted)


T = TypeVar("T")
#: Longest pause between two tries to reach Redis again.
REDIS_MAX_WAIT_SECONDS = 30.0


class Worker(SimpleWorker):
    """SimpleWorker at `WORKER_NICE` priority, with a warm-up, `relax_gc()`, Django's
    connection hygiene around each job, a fresh log context per job (its RQ job id on every
    line; the shop a job binds ends with it) and a full collection after it.

    It also rides out a Redis restart. RQ's main loop waits for Redis only while it dequeues;
    a `ConnectionError` from its other Redis calls (the suspension check, maintenance — which
    also restarts a scheduler process that died with Redis —, the heartbeats, a job's own
    bookkeeping) ended the worker ("unhandled exception, quitting"), so every worker of a
    deployment stopped with one Redis restart (bench/faults.py). Those steps now wait for Redis
    with backoff and go on; a job whose bookkeeping failed is not retried here: its rows are
    in PostgreSQL and the sweeper nudges them again."""

    def work(self, *args: Any, **kwargs: Any) -> bool:
        yield_cpu_to_web()
        warm_up()
        relax_gc()  # after the warm-up, so what it loaded is frozen too
        return super().work(*args, **kwargs)

    def check_for_suspension(self, burst: bool) -> None:
        self._until_redis_answers(lambda: super(Worker, self).check_for_suspension(burst))

    def run_maintenance_tasks(self) -> None:
        self._until_redis_answers(super().run_maintenance_tasks)

    def heartbeat(self, *args: Any, **kwargs: Any) -> None:
        self._until_redis_answers(lambda: super(Worker, self).heartbeat(*args, **kwargs))

    def execute_job(self, job: Any, queue: Any) -> None:
        try:
            super().execute_job(job, queue)
        except redis.exceptions.ConnectionError as error:
            self.log.warning("Worker %s: Redis went away around job %s (%s); its work is "
                             "swept again from PostgreSQL", self.name, job.id, error)

    def _until_redis_answers(self, step: Callable[[], T]) -> T:
        wait = 1.0
        while True:
            try:
                return step()
            except redis.exceptions.ConnectionError as error:
                self.log.warning("Worker %s: Redis unreachable (%s); trying again in %.0f s",
                                 self.name, error, wait)
                time.sleep(wait)
                wait = min(wait * 2, REDIS_MAX_WAIT_SECONDS)

    def perform_job(self, job: Any, *args: Any, **kwargs: Any) -> bool:
        with logcontext.scope(job_id=str(job.id)):
            return self._perform(job, *args, **kwargs)

    def _perform(self, *args: Any, **kwargs: Any) -> bool:
        # A connection broken by a database restart (or past CONN_MAX_AGE) is dropped before
        # and after every job, so one failed job is the worst a restart costs.
        close_old_connections()
        try:
            return bool(super().perform_job(*args, **kwargs))
        finally:
            close_old_connections()
            # The job's reference cycles go now, not whenever the rarer collections get to
            # them (frozen start-up objects make this cheap): without this a worker's memory
            # grew steadily over a 1,000,000-subscriber fan-out (bench/memory.py); with it,
            # it stays flat.
            gc.collect()
