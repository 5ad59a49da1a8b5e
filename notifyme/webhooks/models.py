"""One row per webhook delivery Shopify sent us: stored by the intake view, processed by a job.

`WebhookEvent` is a delivery work row (`notifyme.delivery.models.WorkRow`): the intake view
verifies the signature, inserts the row (unique on `X-Shopify-Webhook-Id`, so a redelivery
changes nothing) and nudges the shop's job; the job claims due rows under a fenced lease and
runs the topic's handler (`notifyme.webhooks.topics.TOPICS`). States:

- `pending`: to process (also while backing off after a "retry later");
- `processed`: the handler ran; `outcome` says what it did, for support;
- `failed`: the body was not a JSON object, the handler raised, or retries ran out;
  `last_error` has the reason;
- `ignored`: nothing to do (a topic the app does not handle, or the handler said so);
  `last_error` has the reason.

No secret is stored: the signature header is checked and dropped. The payload of a topic that
carries a shopper's personal data is cleared once processed (`jobs.PERSONAL_TOPICS`).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from notifyme.delivery.models import WorkRow
from notifyme.shops.models import Shop


class WebhookEvent(WorkRow):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored"

    # NULL: a signed delivery for a shop we have no row for (kept: the signature proves it came
    # from Shopify, and shop/redact may arrive after the shop's rows are gone).
    shop = models.ForeignKey(Shop, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="webhook_events")
    shop_domain = models.CharField(max_length=255)
    topic = models.CharField(max_length=128)
    webhook_id = models.CharField(max_length=255)
    event_id = models.CharField(max_length=255, blank=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    api_version = models.CharField(max_length=32, blank=True)
    # NULL when the body was not a JSON object, for ignored topics, and once a payload with
    # personal data was processed.
    payload = models.JSONField(null=True, blank=True)
    body_sha256 = models.CharField(max_length=64)
    body_bytes = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            # The job's claim (one shop's due events, oldest first) and the sweep.
            models.Index(fields=["shop_domain", "id"], name="webhook_pending_idx",
                         condition=Q(state="pending")),
            models.Index(fields=["shop_domain", "-received_at"], name="webhook_shop_recent_idx"),
            models.Index(fields=["received_at"], name="webhook_received_idx"),
        ]
        # A constraint rather than `unique=True`: on PostgreSQL the field option adds a second,
        # LIKE-pattern index on the id that nothing queries, and each index is one more write
        # per delivery in a burst.
        constraints = [models.UniqueConstraint(fields=["webhook_id"], name="webhook_id_unique")]

    def __str__(self) -> str:
        return f"{self.topic} {self.shop_domain} {self.webhook_id}"
