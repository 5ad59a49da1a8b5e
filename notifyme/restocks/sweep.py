"""The restock part of the sweeper: find work that lost its nudge and nudge it again.

The restocks handler's `sweep` (registered in RestocksConfig.ready()): called every minute by the
pipeline's sweeper (`notifyme.delivery.sweeper`), and safe to call any time:
- restocks with due, unleased (or lease-expired) pending deliveries, whose shop is syncing and
  which no fan-out job touched recently (`progress.is_alive`), get their fan-out restarted;
- running batched restocks whose next batch is due get `restock_advance`;
- running restocks with nothing left to send are completed (a safety net: the job that sent
  the last chunk normally does it);
- running restocks whose deliveries are not all written and whose materialise job was not
  seen lately get a materialise job again (it resumes from the restock's watermark).
A flushed Redis or SIGKILLed workers therefore delay deliveries by at most a lease plus a tick.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from integrations.klaviyo.models import syncing_filter
from notifyme.restocks import batches, nudging, progress
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.shops.models import Shop

logger = logging.getLogger(__name__)
PAUSED_WATCH = timedelta(days=2)


def sweep_restocks(*, now: datetime | None = None) -> dict[str, int]:
    """Re-nudge stalled fan-outs and due batches; returns counts for logs and tests."""
    now = now or timezone.now()
    # Paused restocks only matter while their last released batch is still being sent.
    recent_pause = Q(state=Restock.State.PAUSED_SOLD_OUT, paused_at__gte=now - PAUSED_WATCH)
    active = Restock.objects.filter(Q(state=Restock.State.RUNNING) | recent_pause).filter(
        syncing_filter("shop__klaviyo_connection__"), shop__state=Shop.State.INSTALLED,
    ).values_list("id", flat=True)
    nudged = finished = 0
    for restock_id in active:
        if progress.is_alive(restock_id):
            continue
        restock = Restock.objects.get(pk=restock_id)
        idle = restock.state == Restock.State.RUNNING and restock.next_batch_at is None
        if idle and batches.restock_finish_if_done(restock=restock):
            finished += 1
            continue
        stalled = RestockDelivery.objects.filter(
            restock_id=restock_id, state=RestockDelivery.State.PENDING, available_at__lte=now
        ).filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        if stalled.exists():
            nudged += int(nudging.fanout_nudge(restock_id=restock_id))
    resumed = sum(int(nudging.materialise_nudge(restock_id=restock_id, verify=True))
                  for restock_id in _stranded_materialisations())
    batches_due = Restock.objects.filter(
        state=Restock.State.RUNNING, next_batch_at__lte=now, shop__state=Shop.State.INSTALLED
    ).values_list("id", flat=True)
    advanced = 0
    for restock_id in batches_due:
        advanced += int(nudging.restock_advance_at(restock_id=restock_id, when=now))
    if nudged or advanced or finished or resumed:
        logger.info("restock sweep: %s fan-outs nudged, %s batches due, %s finished, "
                    "%s materialisations resumed", nudged, advanced, finished, resumed)
    return {"nudged": nudged, "batches": advanced, "finished": finished,
            "materialise": resumed}


def _stranded_materialisations() -> list[int]:
    """Running restocks with deliveries still to write and no materialise job seen lately
    (killed worker, lost job, flushed Redis): they resume from their watermark."""
    ids = Restock.objects.filter(state=Restock.State.RUNNING, materialised_at__isnull=True
                                 ).values_list("id", flat=True)
    return [restock_id for restock_id in ids if not progress.is_materialising(restock_id)]

