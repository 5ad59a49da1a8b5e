"""The outbox: work for Klaviyo, written in the same transaction as the change that caused it.

Redis only carries nudges; these rows are the truth, so a lost job or a killed worker loses
nothing (the sweeper finds due rows and expired leases again).

Both models are work rows of the delivery pipeline (`notifyme.delivery.models.WorkRow`: state,
available_at, leased_until, lease_token, attempts, last_error), claimed and fenced by
`notifyme.delivery.leasing`.

A PROFILE_SYNC row is done in steps (`Step` bits in `steps_done`): profile, list membership,
consent (only when the shopper gave it) and the "Subscribed to Back in Stock" event. Steps are
independent Klaviyo calls with separate rate limits, so a row keeps the steps that went through
when another one has to wait; `steps_needed` is fixed the first time the row is processed.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from notifyme.delivery.models import WorkRow
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription


class Step:
    """Bits of `OutboxItem.steps_done` / `steps_needed`."""

    PROFILE = 1  # profile upserted and confirmed by Klaviyo
    LIST = 2  # member of the merchant's list
    CONSENT = 4  # marketing consent recorded (only when given)
    EVENT = 8  # "Subscribed to Back in Stock" event accepted
    IMPORTED = 16  # sent in a bulk import job; PROFILE|LIST once the job confirms it

    BASE = PROFILE | LIST | EVENT


class OutboxItem(WorkRow):
    class Kind(models.TextChoices):
        PROFILE_SYNC = "profile_sync", "Sync profile, list and consent"
        UNSUBSCRIBE = "unsubscribe", "Propagate unsubscribe"
        REDACT = "redact", "Propagate redaction"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        WAITING = "waiting", "Waiting for Klaviyo's import job"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class PhoneIssue(models.TextChoices):
        NONE = "", "None"
        INVALID = "invalid", "Klaviyo rejected the phone number"
        CONFLICT = "conflict", "The phone number belongs to another Klaviyo profile"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="outbox_items")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="outbox_items"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    steps_needed = models.PositiveSmallIntegerField(default=0)
    steps_done = models.PositiveSmallIntegerField(default=0)
    phone_issue = models.CharField(
        max_length=16, choices=PhoneIssue.choices, default=PhoneIssue.NONE, blank=True
    )
    # No index: rows are found by id list (ImportBatch.item_ids); an index here would be one
    # more write on every state change of every row.
    import_batch = models.ForeignKey(
        "ImportBatch", on_delete=models.SET_NULL, null=True, blank=True, related_name="items",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Claims, follow-ups and the sweeper read pending rows by shop and due time. Partial:
            # a row leaving `pending` adds no entry here, so finishing 10,000 rows is cheaper.
            models.Index(fields=["shop", "available_at"], condition=Q(state="pending"),
                         name="outbox_pending_due"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.subscription_id} ({self.state})"


class ImportBatch(WorkRow):
    """One Klaviyo profile bulk import job we started and still have to confirm.

    `item_ids` lists the outbox rows in the order of the job's `profiles.data`, so an import
    error's pointer (`/data/attributes/profiles/data/<i>/...`) names its subscriber. Polling is
    leased like outbox rows: `available_at` is the next poll.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Polling"
        DONE = "done", "Complete"
        FAILED = "failed", "Failed"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="import_batches")
    klaviyo_job_id = models.CharField(max_length=64)
    item_ids = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    polls = models.PositiveIntegerField(default=0)
    total_count = models.PositiveIntegerField(default=0)
    completed_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["shop", "state", "available_at"])]
        verbose_name_plural = "import batches"  # Django's default appends "s": "batchs"

    def __str__(self) -> str:
        return f"import {self.klaviyo_job_id} ({self.state}, {len(self.item_ids)} rows)"
