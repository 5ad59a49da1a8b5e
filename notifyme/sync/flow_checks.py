"""Keeping each connected shop's Klaviyo flow state fresh (`integrations.klaviyo.flows`).

A check runs as a job after every connect or resume (the connection hook), and the sweeper
enqueues one for each connected shop whose state is older than `flows.CHECK_EVERY` (at most
`SWEEP_BATCH` a minute, oldest first, so 10,000 shops are checked within the hour without a
burst of Klaviyo calls). Jobs take the shop id only; the key stays in the database.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from integrations.klaviyo.flows import flow_check, flow_checks_due
from integrations.klaviyo.models import KlaviyoConnection
from notifyme.delivery import nudges

logger = logging.getLogger(__name__)

KIND = "flowcheck"
LANE = "bulk"  # never urgent: behind a shopper's signup
JOB = "notifyme.sync.flow_checks.flow_check_job"
SWEEP_BATCH = 200


def flow_check_nudge(*, shop_id: int) -> bool:
    """Enqueue the shop's flow check unless one is queued (best effort: the sweeper follows)."""
    try:
        return nudges.enqueue_coalesced(kind=KIND, lane=LANE, key=shop_id, func=JOB,
                                        args=(shop_id,))
    except Exception:
        logger.warning("could not enqueue the Klaviyo flow check of shop %s", shop_id)
        return False


def flow_check_job(shop_id: int) -> str:
    nudges.job_started(kind=KIND, lane=LANE, key=shop_id)
    connection = (KlaviyoConnection.objects.select_related("shop")
                  .filter(shop_id=shop_id).first())
    if connection is None:
        return "no connection"
    return flow_check(connection=connection).flow_state or "not checked"


def sweep_flow_checks() -> int:
    """Enqueue the checks that are due; how many were enqueued."""
    due = flow_checks_due(now=timezone.now()).values_list("shop_id", flat=True)[:SWEEP_BATCH]
    return sum(1 for shop_id in due if flow_check_nudge(shop_id=shop_id))
