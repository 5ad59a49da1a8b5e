"""RQ entry points of support actions (thin: an action id in, one service call, its result
written onto the action row). Jobs take ids only."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from notifyme.catalog.reconcile import reconcile_shop
from notifyme.delivery import nudges
from notifyme.support.actions import RECONCILE_KIND, RECONCILE_LANE
from notifyme.support.models import SupportAction


def run_reconcile(action_id: int) -> dict[str, Any]:
    """Reconcile the action's shop now; the summary becomes the action's counts."""
    action = SupportAction.objects.select_related("shop").filter(pk=action_id).first()
    if action is None or action.shop is None:
        return {"skipped": "no such action or shop"}
    nudges.job_started(kind=RECONCILE_KIND, lane=RECONCILE_LANE, key=action.shop.pk)
    done = reconcile_shop(shop=action.shop)
    summary = done.summary()
    if done.skipped:
        action.outcome = SupportAction.Outcome.FAILED
        action.detail = f"Reconciliation did not run to the end: {done.skipped}."
    else:
        action.outcome = SupportAction.Outcome.DONE
        action.detail = (f"Re-read the stock of {done.variants} awaited variant(s) from Shopify: "
                         f"{len(done.updates)} stock change(s), {done.restocks} restock(s) "
                         "started.")
    action.counts = {key: value for key, value in summary.items() if isinstance(value, int)}
    action.finished_at = timezone.now()
    action.save(update_fields=["outcome", "detail", "counts", "finished_at"])
    return summary
