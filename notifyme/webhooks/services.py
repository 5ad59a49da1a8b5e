"""Writes to webhook events that support asks for (the intake and the job write the rest)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.utils import timezone

from notifyme.webhooks import lanes
from notifyme.webhooks.models import WebhookEvent


def webhook_events_retry(*, event_ids: Iterable[int]) -> int:
    """Failed events that still have their payload -> pending, due now, attempts reset; the
    shops' jobs are nudged on commit. Returns how many were queued again."""
    with transaction.atomic():
        events = WebhookEvent.objects.filter(id__in=list(event_ids),
                                             state=WebhookEvent.State.FAILED,
                                             payload__isnull=False)
        domains = set(events.values_list("shop_domain", flat=True))
        count = events.update(state=WebhookEvent.State.PENDING, attempts=0,
                              available_at=timezone.now(), leased_until=None,
                              processed_at=None)
        for domain in domains:
            transaction.on_commit(partial(lanes.nudge_shop, shop_domain=domain))
    return count
