"""Group commit of intake rows: the deliveries that arrive together share one INSERT and one COMMIT.

Under a burst most of a delivery's time was its own COMMIT's wait for the WAL flush (PostgreSQL,
`bench/webhook_burst.py`: the same burst with `synchronous_commit=off` answered 1.5 times as fast).
Turning durability off is not an option — a 200 tells Shopify the delivery is ours — so instead
each web process has one writer thread with its own connection: a request thread hands its row
over (`rows_insert`) and waits; the writer takes every row queued meanwhile (at most
`MAX_BATCH`), inserts them with one multi-row `INSERT … ON CONFLICT DO NOTHING` (autocommit: one
COMMIT, one flush) and releases the waiting requests only after that commit, so a 200 still
means the row is durable. The first row of an idle process goes alone, at once: nothing waits
for company.

A failed batch is retried row by row, so one bad row fails only its own request. A request
whose writer does not answer within `WAIT_SECONDS` (a dead or stuck thread) inserts its row
itself; the statement ignores a duplicate webhook id, so a row written by both is stored once.
Only for PostgreSQL and outside a transaction (`intake.webhook_receive` decides): inside a
caller's transaction the row must be part of it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connections

logger = logging.getLogger(__name__)

MAX_BATCH = 64
WAIT_SECONDS = 5.0
#: How often an idle writer lets Django retire its connection (CONN_MAX_AGE, a broken one).
IDLE_SECONDS = 10.0


@dataclass
class _Row:
    params: Sequence[Any]
    tag: Hashable
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


@dataclass
class _Stop:
    stopped: threading.Event = field(default_factory=threading.Event)


class GroupWriter:
    """One writer thread per process for the database `alias`; `sql(n)` is the INSERT of n
    rows whose parameters are the rows' own, concatenated. `committed(tags)` runs once per
    written batch, before its requests are released, with the distinct tags of its rows (the
    intake's per-shop nudge: once per shop and batch rather than once per delivery)."""

    def __init__(self, alias: str, sql: Callable[[int], str],
                 committed: Callable[[set[Hashable]], None]) -> None:
        self.alias = alias
        self.sql = sql
        self.committed = committed
        self._queue: queue.SimpleQueue[_Row | _Stop] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid = 0
        self._thread: threading.Thread | None = None

    def insert(self, params: Sequence[Any], tag: Hashable = None) -> None:
        """Insert one row through the writer; returns once it is committed (and `committed`
        ran with its tag), raises its error."""
        self._ensure_thread()
        row = _Row(params, tag)
        self._queue.put(row)
        if not row.done.wait(WAIT_SECONDS):
            logger.warning("webhook group commit: the writer did not answer in %.0f s; "
                           "the request writes its row itself", WAIT_SECONDS)
            self._execute([row])
            self.committed({tag})
            return
        if row.error is not None:
            raise row.error

    def _ensure_thread(self) -> None:
        # Per process: a thread does not survive a fork, so a forked child starts its own.
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._queue = queue.SimpleQueue()
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webhook-group-commit",
                                                daemon=True)
                self._thread.start()
                self._pid = os.getpid()

    def close(self) -> None:
        """Stop this process's writer thread and close its connection (the test suite's
        teardown: a database with a connection open cannot be dropped). The next `insert`
        starts a new one."""
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                stop = _Stop()
                self._queue.put(stop)
                stop.stopped.wait(WAIT_SECONDS)
            self._pid = 0
            self._thread = None

    def _run(self) -> None:
        rows_queue = self._queue
        while True:
            try:
                first = rows_queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                self._retire_connection_if_stale()
                continue
            batch: list[_Row] = []
            item: _Row | _Stop | None = first
            while isinstance(item, _Row):
                batch.append(item)
                item = None
                if len(batch) < MAX_BATCH:
                    try:
                        item = rows_queue.get_nowait()
                    except queue.Empty:
                        break
            if batch:
                self._release(batch)
            if isinstance(item, _Stop):
                connections[self.alias].close()
                item.stopped.set()
                return

    def _retire_connection_if_stale(self) -> None:
        # The check itself talks to the database; if that fails the connection goes, never the
        # thread (a dead writer would make every request wait WAIT_SECONDS for its fallback).
        connection = connections[self.alias]
        try:
            connection.close_if_unusable_or_obsolete()
        except Exception:
            logger.warning("webhook group commit: idle connection check failed; reconnecting "
                           "on the next batch", exc_info=True)
            try:
                connection.close()
            except Exception:
                logger.debug("webhook group commit: closing the broken connection failed",
                             exc_info=True)

    def _release(self, batch: list[_Row]) -> None:
        try:
            self._write(batch)
            self.committed({row.tag for row in batch if row.error is None})
        except Exception:
            logger.exception("webhook group commit: after-commit step failed")
        finally:
            for row in batch:
                row.done.set()

    def _write(self, batch: list[_Row]) -> None:
        try:
            self._execute(batch)
        except Exception as error:
            if len(batch) == 1:
                batch[0].error = error
                return
            for row in batch:  # one bad row must not fail the others
                try:
                    self._execute([row])
                except Exception as row_error:
                    row.error = row_error

    def _execute(self, rows: list[_Row]) -> None:
        connection = connections[self.alias]
        try:
            with connection.cursor() as cursor:
                cursor.execute(self.sql(len(rows)), [p for row in rows for p in row.params])
        except Exception:
            connection.close()  # a broken connection is opened afresh by the next batch
            raise

