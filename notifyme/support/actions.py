"""Support staff actions on one shop, each recorded as a `SupportAction` (who, when, what came
of it). The views in `action_views.py` are thin over these.

- `shop_reverify`: re-verify the stored Klaviyo key and list now (`connection_retest`, what the
  merchant's "Re-test" does): a pass resumes a halted sync, a failure is recorded with its
  sentence.
- `shop_retry`: queue ONE failed record or ALL failed records of the shop again — exactly the
  set of the preview the staff member saw (`retry_plan` token; `PlanChanged` otherwise) —
  through the domain services (`outbox_retry_failed`, `deliveries_retry_failed`), which make
  the rows due now and nudge the pipeline once the transaction commits.
- `shop_pause` / `shop_resume`: support's pause of the shop's sync (`integrations.klaviyo.pausing`).
- `shop_reconcile`: re-run stock reconciliation for the shop now, as a job on the `bulk` lane
  (`notifyme.support.jobs.run_reconcile`); the job writes its result onto the action row.

An action refused or failed is recorded too (support sees who tried what). No key, token or
shopper PII beyond ids is written into `parameters`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.klaviyo.pausing import connection_pause, connection_unpause
from integrations.klaviyo.scopes import ConnectionRefused
from integrations.klaviyo.services import connection_retest
from notifyme.delivery import nudges
from notifyme.restocks.retry import deliveries_retry_failed
from notifyme.shops.models import Shop
from notifyme.support.models import SupportAction
from notifyme.support.retry_plan import DELIVERY, SYNC, RetryPlan, retry_plan
from notifyme.sync.services import outbox_retry_failed

logger = logging.getLogger(__name__)
Kind, Outcome = SupportAction.Kind, SupportAction.Outcome
RECONCILE_KIND = "support-reconcile"
RECONCILE_LANE = "bulk"
RECONCILE_JOB = "notifyme.support.jobs.run_reconcile"
RECONCILE_OPTIONS: dict[str, Any] = {"result_ttl": 0, "failure_ttl": 86400, "job_timeout": 900}


class PlanChanged(Exception):
    """The failed records (or what would be sent for them) changed since the preview."""

    def __init__(self, plan: RetryPlan) -> None:
        self.plan = plan
        super().__init__("The failed records changed since the preview; preview again.")


def action_record(
    *, actor: Any, shop: Shop, kind: str, outcome: str, detail: str,
    parameters: dict[str, Any] | None = None, counts: dict[str, int] | None = None,
    finished: bool = True,
) -> SupportAction:
    """Write one audit row (`actor`: the signed-in staff user) and log it."""
    action = SupportAction.objects.create(
        actor=actor, actor_username=actor.get_username(), shop=shop, shop_domain=shop.domain,
        kind=kind, outcome=outcome, detail=detail[:2000], parameters=parameters or {},
        counts=counts or {}, finished_at=timezone.now() if finished else None)
    logger.info("support action %s shop=%s by=%s outcome=%s counts=%s", kind, shop.domain,
                action.actor_username, outcome, action.counts)
    return action


def shop_reverify(*, actor: Any, shop: Shop) -> SupportAction:
    """Re-verify the shop's Klaviyo connection now and record the result."""
    try:
        connection = connection_retest(shop=shop)
    except ConnectionRefused as refused:
        outcome = Outcome.REFUSED if refused.kind == "not_connected" else Outcome.FAILED
        return action_record(actor=actor, shop=shop, kind=Kind.REVERIFY, outcome=outcome,
                             detail=refused.sentence, parameters={"error_kind": refused.kind})
    detail = ("Klaviyo accepted the key and the list; the connection is syncing."
              if connection.is_syncing else
              "Klaviyo accepted the key and the list; the sync stays paused by support.")
    return action_record(actor=actor, shop=shop, kind=Kind.REVERIFY, outcome=Outcome.DONE,
                         detail=detail, parameters={"scopes": list(connection.scopes_verified)})


def shop_retry(*, actor: Any, shop: Shop, token: str, record: str | None = None
               ) -> SupportAction:
    """Queue the previewed failed records again (raises UnknownRecord for a record that is not
    a failed record of this shop, PlanChanged when the set differs from the preview's)."""
    plan = retry_plan(shop=shop, record=record)
    if plan.token != token:
        raise PlanChanged(plan)
    parameters = {"record": record or "all", "preview": token,
                  "records": [r.ref for r in plan.records]}
    if not plan.records:
        return action_record(actor=actor, shop=shop, kind=Kind.RETRY, outcome=Outcome.NOTHING,
                             detail="No failed records to retry.", parameters=parameters)
    with transaction.atomic():
        synced = outbox_retry_failed(item_ids=plan.ids(SYNC))
        delivered = deliveries_retry_failed(shop_id=shop.pk, delivery_ids=plan.ids(DELIVERY))
        detail = f"{synced + delivered} failed record(s) queued again ({len(plan.calls)} call(s))."
        if plan.more:
            detail += f" {plan.more} more wait for another retry."
        if plan.blocked:
            detail += f" {plan.blocked}"
        action = action_record(
            actor=actor, shop=shop, kind=Kind.RETRY,
            outcome=Outcome.QUEUED if synced + delivered else Outcome.NOTHING, detail=detail,
            parameters=parameters,
            counts={"subscriber_syncs": synced, "restock_deliveries": delivered,
                    "calls": len(plan.calls), "more": plan.more})
    return action


def _pause_or_resume(*, actor: Any, shop: Shop, pause: bool) -> SupportAction:
    kind = Kind.PAUSE if pause else Kind.RESUME
    try:
        changed = connection_pause(shop=shop) if pause else connection_unpause(shop=shop)
    except ConnectionRefused as refused:
        return action_record(actor=actor, shop=shop, kind=kind, outcome=Outcome.REFUSED,
                             detail=refused.sentence)
    if not changed:
        detail = "The sync was already paused." if pause else "The sync was not paused."
        return action_record(actor=actor, shop=shop, kind=kind, outcome=Outcome.NOTHING,
                             detail=detail)
    detail = ("Sync paused: nothing is claimed or sent for this shop until it is resumed."
              if pause else "Sync resumed: the waiting work is being sent.")
    return action_record(actor=actor, shop=shop, kind=kind, outcome=Outcome.DONE, detail=detail)


def shop_pause(*, actor: Any, shop: Shop) -> SupportAction:
    return _pause_or_resume(actor=actor, shop=shop, pause=True)


def shop_resume(*, actor: Any, shop: Shop) -> SupportAction:
    return _pause_or_resume(actor=actor, shop=shop, pause=False)


def shop_reconcile(*, actor: Any, shop: Shop) -> SupportAction:
    """Queue a stock reconciliation of the shop now; the job records its outcome on the row.
    One support reconcile per shop is queued at a time."""
    action = action_record(actor=actor, shop=shop, kind=Kind.RECONCILE, outcome=Outcome.QUEUED,
                           detail="Stock reconciliation queued.", finished=False)
    try:
        queued = nudges.enqueue_coalesced(kind=RECONCILE_KIND, lane=RECONCILE_LANE, key=shop.pk,
                                          func=RECONCILE_JOB, args=(action.pk,), verify=True,
                                          options=RECONCILE_OPTIONS)
    except Exception:
        logger.warning("could not queue a support reconcile for shop %s", shop.domain)
        queued, failed = False, True
    else:
        failed = False
    if not queued:
        action.outcome = Outcome.FAILED if failed else Outcome.NOTHING
        action.detail = ("Could not queue the reconciliation (the queue is unreachable); try "
                         "again." if failed else
                         "A reconciliation requested by support is already queued for this shop.")
        action.finished_at = timezone.now()
        action.save(update_fields=["outcome", "detail", "finished_at"])
    return action
