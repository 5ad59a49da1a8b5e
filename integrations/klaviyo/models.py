"""A merchant's Klaviyo connection (encrypted private key + health) and the outbound-call log.

The private key is stored only encrypted, bound to its shop (`shop.secret_context(...)`), so a
ciphertext copied to another shop's row does not decrypt there. What is shown anywhere — admin,
dashboard, logs, support — is `key_display` (`pk_…abcd`) and `key_fingerprint`, never the key.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from notifyme.core import crypto
from notifyme.core.models import TimeStampedModel
from notifyme.shops.models import Shop

KEY_CONTEXT_PURPOSE = "klaviyo_private_key"


class KlaviyoConnection(TimeStampedModel):
    """One per shop. `status` is the truth about whether this shop's sync is running."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected and syncing"
        NEEDS_ATTENTION = "needs_attention", "Needs attention"
        DISCONNECTED = "disconnected", "Not connected"

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="klaviyo_connection")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DISCONNECTED, db_index=True
    )

    private_key_encrypted = models.TextField(blank=True, editable=False)
    key_last4 = models.CharField(max_length=4, blank=True)
    key_fingerprint = models.CharField(max_length=16, blank=True, db_index=True)

    account_id = models.CharField(max_length=64, blank=True, db_index=True)
    account_name = models.CharField(max_length=255, blank=True)
    list_id = models.CharField(max_length=64, blank=True)
    list_name = models.CharField(max_length=255, blank=True)

    scopes_verified = models.JSONField(default=list, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)

    last_error_kind = models.CharField(max_length=32, blank=True)
    last_error_message = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error_id = models.CharField(max_length=64, blank=True, help_text="Klaviyo's error id")

    # Support's pause (`integrations.klaviyo.pausing`): independent of `status`, so a reconnect
    # by the merchant does not undo it; only support's resume does. While paused nothing is
    # claimed or sent for this shop (`is_syncing`, `syncing_filter`), and the merchant sees
    # "Paused by support".
    paused = models.BooleanField(default=False, db_default=False)
    paused_at = models.DateTimeField(null=True, blank=True)

    # The Back in Stock flow as Klaviyo last showed it (`flows.flow_check`, at most hourly):
    # events only become emails through a live flow that the "Back in Stock" metric triggers.
    class FlowState(models.TextChoices):
        LIVE = "live", "A live flow sends the emails"
        NOT_LIVE = "not_live", "The flow is not live"
        NO_FLOW = "no_flow", "No flow uses the Back in Stock event"
        NO_METRIC = "no_metric", "No Back in Stock event sent yet"
        NO_SCOPE = "no_scope", "The key cannot read flows"
        UNAVAILABLE = "unavailable", "Klaviyo did not answer the check"

    flow_state = models.CharField(max_length=16, choices=FlowState.choices, blank=True,
                                  default="", db_default="")
    flow_checked_at = models.DateTimeField(null=True, blank=True)
    #: [{"id", "name", "status"}] of the flows the metric triggers (no personal data).
    flow_flows = models.JSONField(default=list, blank=True)
    flow_metric_id = models.CharField(max_length=64, blank=True, default="", db_default="")
    #: Events were accepted in the last 7 days but no live flow sends them (board, doctor).
    flow_alarm = models.BooleanField(default=False, db_default=False)

    class Meta:
        verbose_name = "Klaviyo connection"

    def __str__(self) -> str:
        return f"{self.shop} → Klaviyo {self.account_name or self.account_id or '(none)'}"

    # -- the key ----------------------------------------------------------------------------------

    @property
    def key_context(self) -> str:
        return self.shop.secret_context(KEY_CONTEXT_PURPOSE)

    def set_private_key(self, private_key: str) -> None:
        """Encrypt and store a (verified) key with its display suffix and fingerprint."""
        self.private_key_encrypted = crypto.encrypt(private_key, context=self.key_context)
        self.key_last4 = private_key[-4:]
        self.key_fingerprint = crypto.fingerprint(private_key)

    def clear_private_key(self) -> None:
        self.private_key_encrypted = ""
        self.key_last4 = ""
        self.key_fingerprint = ""

    def get_private_key(self) -> str:
        """The plaintext key (raises `crypto.SecretDecryptionError` if it is not ours)."""
        if not self.private_key_encrypted:
            return ""
        return crypto.decrypt(self.private_key_encrypted, context=self.key_context)

    @property
    def has_key(self) -> bool:
        return bool(self.private_key_encrypted)

    @property
    def key_display(self) -> str:
        """`pk_…abcd` — the only form of the key ever shown."""
        return f"pk_…{self.key_last4}" if self.key_last4 else ""

    @property
    def is_syncing(self) -> bool:
        """Connected and not paused by support: the only state in which work is sent."""
        return self.status == self.Status.CONNECTED and not self.paused


def syncing_filter(prefix: str = "") -> Q:
    """`is_syncing` as a query filter, `prefix` leading to the connection (e.g.
    "shop__klaviyo_connection__"): what every sweeper and claim filter uses."""
    return Q(**{f"{prefix}status": KlaviyoConnection.Status.CONNECTED, f"{prefix}paused": False})


class SyncAttempt(models.Model):
    """One outbound Klaviyo call, successful or not (the support timeline). No secrets.

    Which records a call carried is in `SyncAttemptSubscription` (one row per record, batch
    calls included), written with the attempt. `subscription_id` is kept for single-record
    calls (the admin's `?subscription_id=` filter), opaquely: this package knows no domain
    model, so both are plain indexed integers, not foreign keys.

    `purpose` tells support why the call was made: a `probe` proves a scope on connect with an
    intentionally invalid body, so its 400/404 is the expected answer, not a failure.
    `request_summary` is what was sent (method, path, query, the start of the body; never a
    header, so never the key) and `fix` the merchant-facing sentence for the error."""

    class Purpose(models.TextChoices):
        SYNC = "sync", "Sync"
        PROBE = "probe", "Permission probe"
        CONNECT = "connect", "Connection check"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="klaviyo_attempts")
    subscription_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.SYNC,
                               db_default=Purpose.SYNC)
    operation = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="null = no response"
    )
    error_kind = models.CharField(max_length=32, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_detail = models.TextField(blank=True)
    error_pointer = models.CharField(max_length=255, blank=True)
    klaviyo_error_id = models.CharField(max_length=64, blank=True, db_index=True)
    duration_ms = models.PositiveIntegerField(default=0)
    records = models.PositiveIntegerField(default=1)
    retry_count = models.PositiveIntegerField(default=0)
    request_summary = models.TextField(blank=True, default="", db_default="")
    fix = models.TextField(blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["shop", "created_at"]),
            # Failed calls only (support's board, shop page and doctor count and list them per
            # shop and window); partial, so the many successful calls add nothing to it.
            models.Index(fields=["shop", "created_at"], condition=~models.Q(error_kind=""),
                         name="syncattempt_failed_idx"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status_code or 'no response'}"

    @property
    def ok(self) -> bool:
        return not self.error_kind

    @property
    def expected_refusal(self) -> bool:
        """A probe answered 4xx after Klaviyo's scope check passed: the scope is there."""
        return self.purpose == self.Purpose.PROBE and self.ok and (self.status_code or 0) >= 400


class SyncAttemptSubscription(models.Model):
    """One record a call carried: the link from the call log to the shopper it was about.

    Written by `attempt_recorder` with its attempt (one INSERT for a 1,000-record batch).
    `subscription_id` is opaque (no foreign key: integrations know no domain model); the
    shopper timeline finds a subscriber's calls through the (subscription_id, attempt) index.
    Deleting an attempt deletes its links."""

    attempt = models.ForeignKey(SyncAttempt, on_delete=models.CASCADE, related_name="links")
    subscription_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["subscription_id", "attempt"],
                                name="attempt_link_by_subscription")]

    def __str__(self) -> str:
        return f"attempt {self.attempt_id} carried subscription {self.subscription_id}"
