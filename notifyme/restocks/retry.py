"""Retrying failed restock deliveries after the cause was fixed (support's retry action).

A delivery FAILED when Klaviyo refused its event (a bad record, a request Klaviyo rejected
whole, an error retries could not fix). `deliveries_retry_failed` puts such rows back in line:

- only FAILED rows of a restock that still sends or has completed (`RETRYABLE_RESTOCKS`) and
  whose subscription is still active are touched — a cancelled restock stays cancelled, a
  sold-out-paused one hands its waiters to the next restock, and someone who left is not
  alerted;
- each row → PENDING, due now, attempts reset, lease cleared (its `unique_id` is unchanged, so
  Klaviyo deduplicates a resend of an event that did land after all);
- the restock's `failed` counter goes down by the rows retried, and a COMPLETED restock is
  RUNNING again until the fan-out finishes it (`restock_finish_if_done`), so the merchant's
  progress shows the resend;
- the fan-out is nudged for each restock once the transaction commits.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from notifyme.restocks import nudging
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.subscriptions.models import Subscription

RETRYABLE_RESTOCKS = (Restock.State.RUNNING, Restock.State.COMPLETED)


def retryable_deliveries(*, shop_id: int) -> QuerySet[RestockDelivery]:
    """The shop's failed deliveries a retry would send again (see module docstring)."""
    return RestockDelivery.objects.filter(
        restock__shop_id=shop_id, state=RestockDelivery.State.FAILED,
        restock__state__in=RETRYABLE_RESTOCKS, subscription__status=Subscription.Status.ACTIVE,
    )


def deliveries_retry_failed(*, shop_id: int, delivery_ids: Iterable[int]) -> int:
    """Queue the given failed deliveries of `shop_id` again; returns how many were queued (rows
    that are not retryable, or belong to another shop, are left alone)."""
    wanted = list(delivery_ids)
    if not wanted:
        return 0
    now = timezone.now()
    with transaction.atomic():
        rows = list(retryable_deliveries(shop_id=shop_id).select_for_update(of=("self",))
                    .filter(pk__in=wanted).values_list("pk", "restock_id"))
        if not rows:
            return 0
        RestockDelivery.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            state=RestockDelivery.State.PENDING, attempts=0, last_error="", available_at=now,
            leased_until=None, lease_token="")
        per_restock = Counter(restock_id for _, restock_id in rows)
        for restock_id, count in sorted(per_restock.items()):
            Restock.objects.filter(pk=restock_id).update(failed=F("failed") - count)
            Restock.objects.filter(pk=restock_id, state=Restock.State.COMPLETED).update(
                state=Restock.State.RUNNING, completed_at=None, finished_at=None)
            transaction.on_commit(functools.partial(nudging.fanout_nudge, restock_id=restock_id))
    return len(rows)
