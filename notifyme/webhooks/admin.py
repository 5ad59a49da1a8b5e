"""Support's view of what Shopify sent: every delivery, its state and the reason. Read-only
(only the intake and the job write these rows), with one action that queues events again."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from notifyme.core.admin import ReadOnlyAdmin
from notifyme.webhooks.models import WebhookEvent
from notifyme.webhooks.services import webhook_events_retry


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop_domain", "topic", "state", "outcome", "last_error", "attempts",
                    "received_at", "triggered_at", "processed_at")
    list_filter = ("state", "topic")
    search_fields = ("shop_domain", "webhook_id", "event_id")
    date_hierarchy = "received_at"
    actions = ["retry_events"]

    @admin.action(description="Process selected failed events again")
    def retry_events(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        count = webhook_events_retry(event_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} event(s) queued again.", messages.SUCCESS)
