"""The outbox: work for Klaviyo, written in the same transaction as the change that caused it.

Redis only carries nudges; these rows are the truth, so a lost job or a killed worker loses
nothing (the sweeper finds due rows and expired leases again).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription


class OutboxItem(models.Model):
    class Kind(models.TextChoices):
        PROFILE_SYNC = "profile_sync", "Sync profile, list and consent"
        UNSUBSCRIBE = "unsubscribe", "Propagate unsubscribe"
        REDACT = "redact", "Propagate redaction"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="outbox_items")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="outbox_items"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "state", "available_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.subscription_id} ({self.state})"
