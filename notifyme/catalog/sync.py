"""Full catalog syncs: start one, watch its progress, find stranded ones (the run: `sync_run`).

`catalog_sync_start` is the only way a sync begins — the initial sync on install (the
`shops.hooks.shop_installed` callback), the merchant's "Re-sync" (`POST /app/api/catalog/sync`)
and `manage.py catalog_sync`. It writes a `CatalogSync` row (at most one unfinished per shop;
a second start gets `SyncAlreadyRunning` with the one that runs) and enqueues the job on commit,
on the `bulk` queue so a 50,000-variant read never delays a shopper's signup on `sync`. The job
takes the row's id only. Enqueueing is best effort like every nudge: the sweeper
(`sync_sweep`, registered as the `catalog_sync` handler) re-enqueues a sync whose job vanished
or died (no heartbeat for `STALE_SECONDS`), and the run resumes where the row says it stopped.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from notifyme.catalog.sync_models import CatalogSync
from notifyme.delivery import nudges
from notifyme.shops.models import Shop

logger = logging.getLogger(__name__)

QUEUE = "bulk"
JOB = "notifyme.catalog.sync_jobs.run_catalog_sync"
#: A 50,000-variant bulk sync takes minutes; a job killed by this timeout is resumed.
JOB_OPTIONS: dict[str, Any] = {"result_ttl": 0, "failure_ttl": 86400, "job_timeout": 3600}
#: A running sync whose job wrote no heartbeat for this long is stranded (its job died).
STALE_SECONDS = 120
MODES = (CatalogSync.Mode.AUTO, CatalogSync.Mode.PAGING, CatalogSync.Mode.BULK)


class SyncAlreadyRunning(Exception):
    """A sync of this shop is queued or running; `sync` is that one."""

    def __init__(self, sync: CatalogSync) -> None:
        self.sync = sync
        super().__init__(f"catalog sync #{sync.pk} is {sync.state}")


def sync_nudge(*, sync_id: int) -> bool:
    """Enqueue the job for `sync_id` (best effort: the sweeper retries a lost nudge)."""
    try:
        nudges.queue(QUEUE).enqueue(JOB, sync_id, **JOB_OPTIONS)
    except Exception:
        logger.warning("could not enqueue catalog sync %s; the sweeper will", sync_id)
        return False
    return True


def catalog_sync_start(
    *, shop: Shop, mode: str = "auto", reason: str = CatalogSync.Reason.MERCHANT,
    enqueue: bool = True,
) -> CatalogSync:
    """Record a full sync of `shop`'s catalog and enqueue it on commit; return the row.

    `mode`: `auto` (page through `products` for small catalogs, a bulk operation above
    `sync_run.BULK_THRESHOLD_VARIANTS`), `paging` or `bulk`. Raises `ValueError` for another
    mode and `SyncAlreadyRunning` when the shop has a queued or running sync. `enqueue=False`:
    the caller runs it itself (`manage.py catalog_sync`, in its own process).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    running = catalog_sync_unfinished(shop=shop)
    if running is not None:
        raise SyncAlreadyRunning(running)
    try:
        with transaction.atomic():
            sync = CatalogSync.objects.create(shop=shop, requested_mode=mode, mode=mode,
                                              reason=reason)
    except IntegrityError:  # another start won the race (the partial unique constraint)
        raise SyncAlreadyRunning(catalog_sync_unfinished(shop=shop) or CatalogSync(shop=shop)
                                 ) from None
    if enqueue:
        transaction.on_commit(lambda: sync_nudge(sync_id=sync.pk))
    return sync


def catalog_sync_on_install(*, shop: Shop) -> str | None:
    """`shops.hooks.shop_installed` callback: the initial sync (none if one already runs)."""
    try:
        sync = catalog_sync_start(shop=shop, reason=CatalogSync.Reason.INSTALL)
    except SyncAlreadyRunning as running:
        return f"catalog sync #{running.sync.pk} already {running.sync.state}"
    return f"catalog sync #{sync.pk} queued"


def catalog_sync_stop(*, shop: Shop) -> str | None:
    """`shops.hooks.shop_uninstalled` callback: an unfinished sync fails (its job, fenced by
    its lease, writes nothing more)."""
    stopped = CatalogSync.objects.filter(shop=shop, state__in=CatalogSync.UNFINISHED).update(
        state=CatalogSync.State.FAILED, error="The app was uninstalled.", lease_token="",
        finished_at=timezone.now())
    return f"stopped {stopped} catalog sync" if stopped else None


def catalog_sync_unfinished(*, shop: Shop) -> CatalogSync | None:
    return CatalogSync.objects.filter(shop=shop, state__in=CatalogSync.UNFINISHED).first()


def catalog_sync_latest(*, shop: Shop) -> CatalogSync | None:
    return CatalogSync.objects.filter(shop=shop).order_by("-created_at", "-id").first()


def catalog_sync_progress(sync: CatalogSync | None) -> dict[str, Any] | None:
    """The JSON the app's progress bar and the command read (no token, no payload)."""
    if sync is None:
        return None
    return {
        "id": sync.pk,
        "state": sync.state,
        "state_label": sync.get_state_display(),
        "mode": sync.mode,
        "reason": sync.reason,
        "total_products": sync.total_products,
        "total_variants": sync.total_variants,
        "done_products": sync.done_products,
        "done_variants": sync.done_variants,
        "percent": sync.percent,
        "cost_points": sync.cost_points,
        "started_at": sync.started_at.isoformat() if sync.started_at else None,
        "finished_at": sync.finished_at.isoformat() if sync.finished_at else None,
        "error": sync.error,
    }


def sync_sweep() -> int:
    """Sweeper handler: re-enqueue unfinished syncs of installed shops whose job is gone
    (queued without a heartbeat for `STALE_SECONDS`, or running with a stale heartbeat)."""
    cutoff = timezone.now() - timedelta(seconds=STALE_SECONDS)
    stranded = CatalogSync.objects.filter(
        state__in=CatalogSync.UNFINISHED, shop__state=Shop.State.INSTALLED,
    ).filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, updated_at__lt=cutoff))
    return sum(int(sync_nudge(sync_id=pk)) for pk in stranded.values_list("id", flat=True))
