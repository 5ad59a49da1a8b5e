"""`CatalogSync`: one full read of a shop's Shopify catalog into the mirror, and its progress.

A row is the truth about a sync (the merchant's progress bar, the command's, the sweeper's
"is it stranded?"); the job only moves it forward. At most one unfinished sync per shop
(a partial unique constraint), so two starts can never read the catalog twice at once.
Resumable: `cursor` (paging: the end cursor of the last page applied) and `bulk_operation_id`
+ `done_products` / `done_levels` (bulk: what of the current export was applied) let a new job
continue
where a dead one stopped; a job holds the row with a fenced lease (`lease_token`,
`heartbeat_at`), so a stale job that wakes up writes nothing.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from notifyme.core.models import TimeStampedModel
from notifyme.shops.models import Shop


class CatalogSync(TimeStampedModel):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Finished"
        FAILED = "failed", "Failed"

    class Mode(models.TextChoices):
        AUTO = "auto", "Automatic"
        PAGING = "paging", "Paging through products"
        BULK = "bulk", "Bulk operation"

    class Reason(models.TextChoices):
        INSTALL = "install", "Initial sync on install"
        MERCHANT = "merchant", "Requested in the app"
        COMMAND = "command", "manage.py catalog_sync"

    UNFINISHED = (State.QUEUED, State.RUNNING)

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="catalog_syncs")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    #: What was asked for (`auto` is decided when the job counts the catalog) and what runs.
    requested_mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.AUTO)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.AUTO)
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.MERCHANT)
    total_products = models.IntegerField(null=True, blank=True)
    total_variants = models.IntegerField(null=True, blank=True)
    done_products = models.IntegerField(default=0)
    done_variants = models.IntegerField(default=0)
    #: Inventory items whose per-location levels were applied.
    done_levels = models.IntegerField(default=0)
    #: Admin API cost points spent (actual query cost, as Shopify reports it).
    cost_points = models.IntegerField(default=0)
    #: Jobs that ran it; Shopify being down lets a later job resume, up to a limit.
    attempts = models.IntegerField(default=0)
    #: Paging: the end cursor of the last page applied (bulk resumes by `done_products`).
    cursor = models.CharField(max_length=1000, blank=True)
    bulk_operation_id = models.CharField(max_length=255, blank=True)
    lease_token = models.CharField(max_length=64, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: Why it failed, one sentence for the merchant and support (never a token or payload).
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["shop"], condition=Q(state__in=["queued", "running"]),
                name="catalog_sync_one_unfinished_per_shop"),
        ]
        indexes = [models.Index(fields=["shop", "-created_at"], name="catalog_sync_recent")]

    def __str__(self) -> str:
        return f"catalog sync #{self.pk} of {self.shop_id} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)

    @property
    def percent(self) -> int:
        """0-100 by variants once the catalog was counted (a finished sync is 100). Bulk reads
        the catalog in two exports (products with variants, then inventory levels), each half
        of the bar."""
        if self.state == self.State.SUCCEEDED:
            return 100
        total, done = self.total_variants, self.done_variants
        if self.mode == self.Mode.BULK and total:
            total, done = 2 * total, done + self.done_levels
        if not total:
            total, done = self.total_products, self.done_products
        if not total:
            return 0
        return max(0, min(99, int(done * 100 / total)))


class CatalogSyncSeen(models.Model):
    """A product a paging sync read, kept until the sync finishes: a job that resumes a paging
    sync mid-way did not read the earlier pages itself, and still has to know every product the
    sync saw to mark removed the ones that vanished from Shopify. (A bulk sync re-reads its
    whole export when resumed, so it keeps the set in memory.)"""

    sync = models.ForeignKey(CatalogSync, on_delete=models.CASCADE, related_name="seen")
    shopify_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sync", "shopify_id"],
                                               name="catalog_sync_seen_once")]
        verbose_name = "sync-read product"
        verbose_name_plural = "sync-read products"

    def __str__(self) -> str:
        return f"product {self.shopify_id} seen by sync #{self.sync_id}"
