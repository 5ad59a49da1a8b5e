"""The subscriber sync's part of the sweep: shops with outbox work nobody is nudged for.

Reads only PostgreSQL: installed shops whose connection is syncing and that have outbox rows due
and not leased, rows whose lease expired (their worker died), or import jobs due for a poll; each
gets a job on the lane its backlog calls for (`verify=True` replaces a nudge marker whose job
vanished).
"""

from __future__ import annotations

import logging

from django.db.models import Count, Q
from django.utils import timezone

from integrations.klaviyo.models import syncing_filter
from notifyme.shops.models import Shop
from notifyme.sync import lanes
from notifyme.sync.models import ImportBatch, OutboxItem

logger = logging.getLogger(__name__)
BULK_THRESHOLD = 50


def due_shops() -> dict[int, int]:
    """{shop id: due row count} for syncing shops: due rows, expired leases, due import polls."""
    now = timezone.now()
    syncing = syncing_filter("shop__klaviyo_connection__") & Q(shop__state=Shop.State.INSTALLED)
    free = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    rows = (OutboxItem.objects.filter(syncing, free, state=OutboxItem.State.PENDING,
                                      available_at__lte=now)
            .values("shop_id").annotate(n=Count("id")).order_by())
    found = {r["shop_id"]: r["n"] for r in rows}
    batches = (ImportBatch.objects.filter(syncing, free, state=ImportBatch.State.PENDING,
                                          available_at__lte=now)
               .values_list("shop_id", flat=True).distinct())
    for shop_id in batches:
        found[shop_id] = max(found.get(shop_id, 0), BULK_THRESHOLD + 1)
    return found


def sweep_outbox() -> int:
    """Nudge every shop with due or stranded work; returns how many jobs were enqueued."""
    nudged = 0
    for shop_id, count in due_shops().items():
        lane = "bulk" if count > BULK_THRESHOLD else "sync"
        try:
            nudged += int(lanes.enqueue_shop(shop_id=shop_id, lane=lane, verify=True))
        except Exception:
            logger.warning("sweeper could not nudge shop %s (Redis down?)", shop_id)
    if nudged:
        logger.info("sync sweep: %s shops nudged", nudged)
    return nudged
