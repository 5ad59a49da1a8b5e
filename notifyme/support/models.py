"""The support audit: one `SupportAction` row per staff action, saying who, when, on which shop,
what was asked and what came of it.

Rows are written only by `notifyme.support.actions` (never by hand: the admin is read-only).
`parameters` hold ids and choices only — never a key, a token or shopper PII beyond ids — so
the audit can be shown to any staff member. `actor` and `shop` survive deletion of the user or
the shop as their copied names (`actor_username`, `shop_domain`): an audit outlives both.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from notifyme.shops.models import Shop


class SupportAction(models.Model):
    class Kind(models.TextChoices):
        REVERIFY = "reverify", "Re-verify the Klaviyo connection"
        RETRY = "retry", "Retry failed records"
        PAUSE = "pause", "Pause the sync"
        RESUME = "resume", "Resume the sync"
        RECONCILE = "reconcile", "Re-run stock reconciliation"

    class Outcome(models.TextChoices):
        DONE = "done", "Done"
        QUEUED = "queued", "Queued"
        NOTHING = "nothing", "Nothing to do"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="support_actions")
    actor_username = models.CharField(max_length=150)
    shop = models.ForeignKey(Shop, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="support_actions")
    shop_domain = models.CharField(max_length=255, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    parameters = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    detail = models.TextField(blank=True, help_text="What happened, in one or two sentences.")
    counts = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "created_at"])]

    def __str__(self) -> str:
        return f"{self.actor_username}: {self.kind} on {self.shop_domain} ({self.outcome})"
