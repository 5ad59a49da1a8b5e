"""Materialising a restock's deliveries: the first chunk at once, the rest while it sends.

A restock's subscribers are the active subscriptions of its variant with an id up to
`Restock.subscription_ceiling` (the highest id committed when the restock started: whoever signs
up later waits for the next restock). Writing a delivery row for each of a million of them takes
many seconds, so they are written in chunks, oldest subscription first (by `(created_at, id)`,
the line order):

- `write_first` writes the first `RESTOCK_FIRST_CHUNK` rows in the stock write's transaction
  (the restock starts with rows its fan-out can claim at commit; a small restock is complete
  there, exactly as before);
- `materialise_run` (the `bulk` job `jobs.run_restock_materialise`) writes the rest, one
  transaction per `RESTOCK_MATERIALISE_CHUNK` rows, while the fan-out sends what exists.

Exactly once: every chunk is the range of subscriptions after the restock's watermark (the mark
of the last subscription covered) up to the mark of the chunk's last one, and it commits only
together with the conditional UPDATE that moves the watermark from the value it started from,
on a restock still `running` and still materialising. A second writer of the same chunk (a
re-nudge, a sweeper resuming a job that was not dead after all) inserts nothing (ON CONFLICT
DO NOTHING on (restock, subscription)) and rolls back when its UPDATE finds the watermark moved;
a worker killed mid-chunk rolls back and the sweeper resumes from the watermark. Cancel, pause
and a later restock taking over close materialisation under the restock's row lock
(`batches.close_materialisation`), so a chunk racing them rolls back too and its subscribers are
left to the later restock. Every chunk applies the rules the restock started with (cool-down
skips, in-flight exclusion: `Restock.cooldown_since`, `exclude_in_flight`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from notifyme.delivery import conf, nudges
from notifyme.delivery.sql import relax_commit
from notifyme.restocks import batches, nudging, progress, sql
from notifyme.restocks.models import Restock, RestockSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chunk:
    written: int  # rows inserted
    pending: int  # of them pending (the rest skipped by the cool-down)
    end: sql.Mark | None  # the new watermark (None: this chunk took everything left)

    @property
    def last(self) -> bool:
        return self.end is None


def _watermark(restock: Restock) -> sql.Mark | None:
    if restock.materialised_upto_id is None or restock.materialised_upto_at is None:
        return None
    return restock.materialised_upto_at, restock.materialised_upto_id


def _write(restock: Restock, *, limit: int, now: datetime) -> Chunk:
    """Insert the chunk after the restock's watermark (in the caller's transaction)."""
    after = _watermark(restock)
    ceiling = restock.subscription_ceiling or 0
    end = sql.chunk_end(connection, shop_id=restock.shop_id, variant_id=restock.variant_id,
                        ceiling=ceiling, after=after, limit=limit)
    batched = restock.send_mode == RestockSettings.SendMode.BATCHED
    written = sql.insert_deliveries(
        connection, restock_id=restock.pk, shop_id=restock.shop_id,
        variant_id=restock.variant_id, ceiling=ceiling, after=after, upto=end,
        position_base=restock.materialised, cooldown_cutoff=restock.cooldown_since,
        exclude_in_flight=restock.exclude_in_flight, available_at=None if batched else now,
    )
    pending = sql.pending_after(connection, restock_id=restock.pk,
                                position=restock.materialised) if written else 0
    return Chunk(written, pending, end)


def write_first(*, restock: Restock, now: datetime) -> Chunk:
    """The first chunk of a restock created in the caller's transaction; sets its counters and
    watermark (and `materialised_at` when that was everything) and saves them."""
    chunk = _write(restock, limit=conf.restock_first_chunk(), now=now)
    restock.materialised = chunk.written
    restock.total = chunk.pending
    restock.skipped = chunk.written - chunk.pending
    if chunk.end is not None:
        restock.materialised_upto_at, restock.materialised_upto_id = chunk.end
    else:
        restock.materialised_at = now
    restock.save(update_fields=["materialised", "total", "skipped", "materialised_upto_at",
                                "materialised_upto_id", "materialised_at"])
    return chunk


@dataclass(frozen=True)
class Step:
    written: int = 0
    done: bool = True  # nothing left for this restock (complete, closed, or not running)
    lost: bool = False  # another writer moved the watermark first: this chunk rolled back


def materialise_step(*, restock_id: int, limit: int | None = None) -> Step:
    """Write the next chunk of a materialising restock (see the module contract)."""
    restock = Restock.objects.filter(pk=restock_id).first()
    if restock is None or not restock.materialising:
        return Step()
    now = timezone.now()
    with transaction.atomic():
        # The watermark UPDATE holds the restock's row lock until COMMIT, and the fan-out's
        # counter updates wait for it: the commit must not wait for the WAL flush of a
        # 20,000-row chunk. Safe: a crash loses the chunk and its watermark together, and the
        # chunk is written again (the same unique_ids, if the fan-out already sent some).
        relax_commit(connection)
        chunk = _write(restock, limit=limit or conf.restock_materialise_chunk(), now=now)
        end = chunk.end or _watermark(restock) or (None, None)
        moved = Restock.objects.filter(
            pk=restock.pk, state=Restock.State.RUNNING, materialised_at__isnull=True,
            materialised=restock.materialised,
            materialised_upto_id=restock.materialised_upto_id,
        ).update(
            materialised=F("materialised") + chunk.written, total=F("total") + chunk.pending,
            skipped=F("skipped") + (chunk.written - chunk.pending),
            materialised_upto_at=end[0], materialised_upto_id=end[1],
            materialised_at=now if chunk.last else None,
        )
        if not moved:
            transaction.set_rollback(True)
            return Step(lost=True)
        released = _top_up(restock, now=now, last=chunk.last)
    if released:
        nudging.fanout_nudge(restock_id=restock_id, chains=1)
    if chunk.written:
        nudging.fanout_regrow(restock_id=restock_id)  # chains that ran dry waiting for rows
    if chunk.last:
        batches.restock_finish_if_done(restock=restock)
        logger.info("restock %s: every delivery written", restock_id)
    return Step(chunk.written, done=chunk.last)


def _top_up(restock: Restock, *, now: datetime, last: bool) -> int:
    """Batched: release the rows the current batch is still owed (they did not exist when it
    was released). Runs under the restock's row lock (the caller's UPDATE took it)."""
    if restock.send_mode != RestockSettings.SendMode.BATCHED:
        return 0
    owed = Restock.objects.filter(pk=restock.pk).values_list("batch_owed", flat=True).get()
    released = sql.release_batch(connection, restock_id=restock.pk, size=owed,
                                 now=now) if owed else 0
    if owed:
        Restock.objects.filter(pk=restock.pk).update(
            batch_owed=0 if last else F("batch_owed") - released)
    return released


def materialise_run(*, restock_id: int, seconds: float | None = None) -> int:
    """The materialise job: chunks until the restock is complete, or for `seconds`
    (`RESTOCK_MATERIALISE_SECONDS`), then a successor job takes over; returns rows written."""
    nudges.job_started(kind=nudging.MATERIALISE_KIND, lane=nudging.QUEUE, key=restock_id)
    budget = conf.restock_materialise_seconds() if seconds is None else seconds
    deadline = time.monotonic() + budget
    written = 0
    while True:
        progress.mark_materialising(restock_id)
        step = materialise_step(restock_id=restock_id)
        written += step.written
        if step.done or step.lost:
            # Lost: another writer is on it (it moved the watermark); it carries on.
            return written
        if time.monotonic() >= deadline:
            nudging.materialise_nudge(restock_id=restock_id)
            return written
