"""A shopper's request to hear when one variant is back in stock.

Two lifecycles live side by side and never stand in for each other: `status` is the shopper's
relationship with the alert (active → notified / unsubscribed / redacted) and `sync_state` is
whether Klaviyo has caught up with it.

`email` is the normalised address (`emails.email_normalize`): the one every comparison,
constraint, rate limit and Klaviyo call uses; `email_display` is what the shopper typed.
Marketing consent is per channel — `marketing_consent` (email) and `sms_consent` — each with
the version of the wording shown and when it was given. Cancelling an alert never changes
them; `marketing_withdrawn_at` records an explicit "unsubscribe me from marketing".
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from notifyme.catalog.models import Variant
from notifyme.core.models import TimeStampedModel
from notifyme.shops.models import Shop


def new_unsubscribe_token() -> str:
    return secrets.token_urlsafe(24)


class Subscription(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Waiting for restock"
        NOTIFIED = "notified", "Notified"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        REDACTED = "redacted", "Redacted (privacy request)"

    class SyncState(models.TextChoices):
        PENDING = "pending", "Waiting to sync"
        SYNCED = "synced", "Synced to Klaviyo"
        FAILED = "failed", "Failed (see last error)"

    class Source(models.TextChoices):
        STOREFRONT = "storefront", "Storefront form"
        ADMIN = "admin", "Added by staff"
        IMPORT = "import", "Import"
        DEMO = "demo", "Demo data"

    # No single-column indexes beyond what queries use: marking 1,000 subscribers notified
    # writes every index of every row, so the composite index below also serves `shop` lookups.
    shop = models.ForeignKey(
        Shop, on_delete=models.CASCADE, related_name="subscriptions", db_index=False
    )
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="subscriptions")
    email = models.EmailField(max_length=254, blank=True, help_text="Normalised")
    # Columns added after the first release carry database defaults too, so raw INSERTs that
    # predate them (bench seeding) keep working.
    email_display = models.CharField(max_length=254, blank=True, default="", db_default="",
                                     help_text="As typed")
    phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    first_name = models.CharField(max_length=100, blank=True)
    notify_by_email = models.BooleanField(default=False)
    notify_by_sms = models.BooleanField(default=False)
    marketing_consent = models.BooleanField(default=False, help_text="Email marketing")
    consent_text_version = models.CharField(max_length=64, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    sms_consent = models.BooleanField(default=False, db_default=False, help_text="SMS marketing")
    sms_consent_text_version = models.CharField(max_length=64, blank=True, default="",
                                                db_default="")
    sms_consented_at = models.DateTimeField(null=True, blank=True)
    marketing_withdrawn_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.STOREFRONT)
    locale = models.CharField(max_length=16, blank=True)
    shopify_customer_id = models.BigIntegerField(null=True, blank=True)
    quantity_wanted = models.PositiveIntegerField(default=1)

    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    notified_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)

    sync_state = models.CharField(
        max_length=16, choices=SyncState.choices, default=SyncState.PENDING
    )
    synced_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.TextField(blank=True)
    klaviyo_profile_id = models.CharField(max_length=64, blank=True)

    unsubscribe_token = models.CharField(
        max_length=64, default=new_unsubscribe_token, editable=False
    )

    class Meta:
        constraints = [
            # A constraint rather than unique=True: one btree, no varchar_pattern_ops twin.
            models.UniqueConstraint(fields=["unsubscribe_token"], name="unsubscribe_token_unique"),
            models.UniqueConstraint(
                fields=["shop", "variant", "email"],
                condition=Q(status="active") & ~Q(email=""),
                name="one_active_subscription_per_email",
            ),
            models.UniqueConstraint(
                fields=["shop", "variant", "phone"],
                condition=Q(status="active") & ~Q(phone=""),
                name="one_active_subscription_per_phone",
            ),
            models.CheckConstraint(
                condition=~Q(email="", phone="") | Q(status="redacted"),
                name="subscription_has_a_contact",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "variant", "status", "created_at"]),
            # Support's shopper search (notifyme.support.search) across every shop: one partial
            # index per identifier, so a lookup over millions of rows is an index probe. Email,
            # phone and customer id never change after the signup; the profile id is written
            # once, on the first sync.
            models.Index(fields=["email"], name="subscription_by_email",
                         condition=~Q(email="")),
            models.Index(fields=["phone"], name="subscription_by_phone",
                         condition=~Q(phone="")),
            models.Index(fields=["shopify_customer_id"], name="subscription_by_customer",
                         condition=Q(shopify_customer_id__isnull=False)),
            models.Index(fields=["klaviyo_profile_id"], name="subscription_by_profile",
                         condition=~Q(klaviyo_profile_id="")),
        ]

    def __str__(self) -> str:
        return f"{self.contact} → {self.variant_id}"

    @property
    def contact(self) -> str:
        return self.email_display or self.email or self.phone or "(redacted)"
