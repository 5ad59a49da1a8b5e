"""The audit of Shopify's privacy requests, and the Klaviyo erasures they cause.

`ComplianceRequest`: one row per request (topic + shop + subject), kept after everything else of
the shopper (or of the shop) is gone: when it came, what was asked, how many rows of each kind
were found or erased, what Klaviyo was asked to do and what the merchant still has to do
(`merchant_notice`). It holds no personal data: the subject (customer id, email, phone) is named
only by `subject_digest`, a keyed hash (HMAC-SHA256 under a key derived from SECRET_KEY; see
`subjects.subject_digest`) that lets a later request about the same shopper find this one
(a `customers/redact` wipes the data request's stored subject) and lets redeliveries of one
request land on one row, but cannot be reversed or recomputed without the key. The one
exception is `subject_encrypted`, held only by an open `customers/data_request` so the
merchant's report can be built from the live rows when they open it: encrypted and bound to
the shop, wiped when the merchant marks the request provided, after `subject_expires_at`
(30 days, Shopify's deadline), or when that shopper or the shop is redacted.

`KlaviyoErasure`: the delivery-pipeline work row that carries a `customers/redact` to Klaviyo
(a job, so an outage retries): the shopper's Klaviyo profile ids and, encrypted, their email and
phone — wiped when the row finishes, whatever the outcome.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from notifyme.delivery.models import WorkRow
from notifyme.shops.models import Shop


class ComplianceRequest(models.Model):
    class Topic(models.TextChoices):
        DATA_REQUEST = "customers/data_request", "Customer data request"
        CUSTOMER_REDACT = "customers/redact", "Customer erasure"
        SHOP_REDACT = "shop/redact", "Shop erasure"

    class State(models.TextChoices):
        OPEN = "open", "Report ready for the merchant"
        KLAVIYO_PENDING = "klaviyo_pending", "Erased here; Klaviyo erasure in progress"
        COMPLETED = "completed", "Completed"

    class KlaviyoOutcome(models.TextChoices):
        NONE = "", "Not applicable"
        NOTHING_SENT = "nothing_sent", "Nothing of this shopper reached Klaviyo"
        PENDING = "pending", "Waiting to be sent"
        HELD = "held", "Held: the app is uninstalled"
        DELETION_REQUESTED = "deletion_requested", "Profile deletion requested"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed and removed from the list (not deleted)"
        NOT_CONNECTED = "not_connected", "Klaviyo not connected: nothing sent"
        FAILED = "failed", "Klaviyo refused the request"

    shop = models.ForeignKey(Shop, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="compliance_requests")
    shop_domain = models.CharField(max_length=255, db_index=True)
    topic = models.CharField(max_length=32, choices=Topic.choices)
    shopify_request_id = models.CharField(max_length=64, blank=True,
                                          help_text="data_request.id, when Shopify sends one")
    subject_digest = models.CharField(max_length=64, blank=True, db_index=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    received_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.PositiveIntegerField(default=1, help_text="Times Shopify sent it")
    #: {"subscriptions": n, "outbox_items": n, ...}: rows found (data request) or erased.
    counts = models.JSONField(default=dict, blank=True)
    klaviyo_outcome = models.CharField(max_length=24, choices=KlaviyoOutcome.choices,
                                       default=KlaviyoOutcome.NONE, blank=True)
    #: What the merchant still has to do, shown in the app's privacy panel ("" = nothing).
    merchant_notice = models.TextField(blank=True)
    subject_encrypted = models.TextField(blank=True, editable=False)
    subject_expires_at = models.DateTimeField(null=True, blank=True)
    provided_at = models.DateTimeField(null=True, blank=True,
                                       help_text="The merchant marked the report provided")

    class Meta:
        indexes = [models.Index(fields=["shop", "received_at"])]
        constraints = [
            # Redeliveries of one request land on one row (a new request id is a new row).
            models.UniqueConstraint(
                fields=["shop_domain", "topic", "subject_digest", "shopify_request_id"],
                name="one_audit_row_per_request"),
        ]

    def __str__(self) -> str:
        return f"{self.topic} for {self.shop_domain} ({self.state})"


class KlaviyoErasure(WorkRow):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    request = models.ForeignKey(ComplianceRequest, on_delete=models.CASCADE,
                                related_name="klaviyo_erasures")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="klaviyo_erasures")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    profile_ids = models.JSONField(default=list, blank=True)
    #: Deletion requests Klaviyo already accepted (of: profile ids, email, phone, in order), so
    #: a retry after a rate-limit wait or an outage sends only the rest.
    deletions_done = models.PositiveSmallIntegerField(default=0)
    contact_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "available_at"])]

    def __str__(self) -> str:
        return f"Klaviyo erasure #{self.pk} ({self.state})"
