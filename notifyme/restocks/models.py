"""Restocks: a variant came back, and every waiting subscriber gets one "Back in Stock" event.

`Restock` is one detected return of stock; `RestockDelivery` is the outbox row for one
subscriber of it (the first chunk written in the same transaction as the restock, the rest by
the materialiser, `notifyme.restocks.materialise`; claimed by fan-out jobs with a lease). The
rows are the truth: Redis only carries nudges, so a lost job, a flushed Redis or a killed worker
delays deliveries but never loses or duplicates them — the deterministic `unique_id` makes a
resend after a crash a no-op in Klaviyo.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from notifyme.catalog.models import Variant
from notifyme.core.models import TimeStampedModel
from notifyme.delivery.models import WorkRow
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription


def delivery_unique_id(restock_id: int, subscription_id: int) -> str:
    """Klaviyo's `unique_id` for one subscriber and restock (stable across every retry)."""
    return f"notifyme:bis:{restock_id}:{subscription_id}"


class RestockSettings(TimeStampedModel):
    """How one shop's restocks start and send (defaults apply until the merchant changes them)."""

    class SendMode(models.TextChoices):
        ALL_AT_ONCE = "all_at_once", "All at once"
        BATCHED = "batched", "In batches sized to the stock"

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="restock_settings")
    threshold = models.PositiveIntegerField(
        default=1, help_text="Sellable quantity that counts as back in stock."
    )
    cooldown_hours = models.PositiveIntegerField(
        default=24, help_text="A contact notified for a variant is not notified again within this."
    )
    send_mode = models.CharField(
        max_length=16, choices=SendMode.choices, default=SendMode.ALL_AT_ONCE
    )
    subscribers_per_unit = models.PositiveIntegerField(default=5)
    batch_interval_minutes = models.PositiveIntegerField(default=10)

    class Meta:
        verbose_name_plural = "restock settings"

    def __str__(self) -> str:
        return f"restock settings for {self.shop}"


class StockWatch(models.Model):
    """Per variant: is the next rise to the threshold a restock (`armed` since it sold out)?"""

    variant = models.OneToOneField(Variant, on_delete=models.CASCADE, related_name="stock_watch")
    armed = models.BooleanField(default=True)
    sold_out_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "stock watches"  # Django's default appends "s": "watchs"

    def __str__(self) -> str:
        return f"{self.variant_id} {'armed' if self.armed else 'in stock'}"


class Restock(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", "Sending"
        COMPLETED = "completed", "Completed"
        PAUSED_SOLD_OUT = "paused_sold_out", "Paused: sold out again"
        CANCELLED = "cancelled", "Cancelled"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="restocks")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="restocks")
    quantity = models.IntegerField(help_text="Sellable quantity when the restock was detected.")
    send_mode = models.CharField(max_length=16, choices=RestockSettings.SendMode.choices)
    batch_size = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.RUNNING, db_index=True
    )
    total = models.PositiveIntegerField(default=0, help_text="Deliveries to send.")
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    next_batch_at = models.DateTimeField(null=True, blank=True)
    # Materialisation (notifyme.restocks.materialise): the deliveries are written in chunks,
    # oldest subscription first, the first one in the stock write's transaction. The restock's
    # subscribers are the active subscriptions of the variant with an id up to
    # `subscription_ceiling` (the highest id committed when it started). The watermark
    # (`materialised_upto_at`, `materialised_upto_id`) is the (created_at, id) of the last
    # subscription covered; `materialised` counts the rows written (= the last position);
    # `materialised_at` is set once no row will be added (all written, or closed by cancel,
    # pause or a later restock taking over).
    subscription_ceiling = models.BigIntegerField(null=True, blank=True)
    materialised_upto_at = models.DateTimeField(null=True, blank=True)
    materialised_upto_id = models.BigIntegerField(null=True, blank=True)
    materialised = models.PositiveIntegerField(default=0)
    materialised_at = models.DateTimeField(null=True, blank=True)
    # Decided once at the start, applied to every chunk: the cool-down join (NULL = no earlier
    # restock could have notified anyone within it) and the in-flight exclusion.
    cooldown_since = models.DateTimeField(null=True, blank=True)
    exclude_in_flight = models.BooleanField(default=False)
    # Batched: rows of the current batch not released yet because they were not written yet
    # (the materialiser releases them as it writes them).
    batch_owed = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["shop", "started_at"]),
                   models.Index(fields=["variant", "started_at"])]

    def __str__(self) -> str:
        return f"restock #{self.pk} of {self.variant_id} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state != self.State.RUNNING

    @property
    def materialising(self) -> bool:
        """Are deliveries still being written (the total still growing)?"""
        return self.materialised_at is None and self.state == self.State.RUNNING

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.sent - self.failed)


class RestockDelivery(WorkRow):
    """One subscriber's event for one restock: a work row of the delivery pipeline, claimed and
    fenced like every other (`notifyme.delivery.leasing`).

    `available_at` is NULL while the row waits for its batch (batched sending) and is set when
    the batch is released; `leased_until` and `lease_token` are set by the claim, and every
    outcome only touches rows still held under the claim's token.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    # No separate index on restock: the (restock, subscription) unique constraint covers it.
    restock = models.ForeignKey(
        Restock, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="restock_deliveries"
    )
    position = models.PositiveIntegerField(help_text="1 = oldest subscription (sent first).")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    available_at = models.DateTimeField(null=True, blank=True)  # type: ignore[assignment]
    unique_id = models.CharField(max_length=64)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "restock deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["restock", "subscription"], name="one_delivery_per_restock_subscriber"
            )
        ]
        indexes = [
            # Claiming and batch release: pending rows of one restock in line order (claims
            # stop after `limit` rows). Partial, so sent rows cost nothing here.
            models.Index(
                fields=["restock", "position"],
                condition=Q(state="pending"), name="delivery_pending_due",
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.unique_id} ({self.state})"
