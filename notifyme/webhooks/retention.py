"""Finished webhook events do not pile up: processed and ignored ones go after
`WEBHOOK_DONE_RETENTION_DAYS` (7; their webhook ids only need to outlive Shopify's retries,
4 h), failed ones after `WEBHOOK_FAILED_RETENTION_DAYS` (30: support looks at them, and a
compliance request must be done within 30 days). Pending events are never touched. Deletes go in
batches of `BATCH` rows (short statements, short locks)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from notifyme.webhooks import conf
from notifyme.webhooks.models import WebhookEvent

BATCH = 5000


def prune() -> int:
    """Delete expired finished events; returns how many."""
    now = timezone.now()
    done_before = now - timedelta(days=conf.value("WEBHOOK_DONE_RETENTION_DAYS"))
    failed_before = now - timedelta(days=conf.value("WEBHOOK_FAILED_RETENTION_DAYS"))
    expired = [
        WebhookEvent.objects.filter(state__in=[WebhookEvent.State.PROCESSED,
                                               WebhookEvent.State.IGNORED],
                                    received_at__lt=done_before),
        WebhookEvent.objects.filter(state=WebhookEvent.State.FAILED,
                                    received_at__lt=failed_before),
    ]
    deleted = 0
    for queryset in expired:
        while ids := list(queryset.order_by().values_list("id", flat=True)[:BATCH]):
            deleted += WebhookEvent.objects.filter(id__in=ids).delete()[0]
    return deleted
