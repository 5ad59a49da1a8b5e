"""Support views of the outbox and of Klaviyo import jobs: read-only work rows, and one action
(a service) that queues failed rows again."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from notifyme.core.admin import ReadOnlyAdmin
from notifyme.sync.models import ImportBatch, OutboxItem
from notifyme.sync.services import outbox_retry_failed


@admin.register(OutboxItem)
class OutboxItemAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop", "kind", "state", "steps_done", "steps_needed", "phone_issue",
                    "attempts", "available_at", "leased_until", "created_at", "completed_at")
    list_filter = ("state", "kind", "phone_issue", "shop")
    search_fields = ("shop__domain", "subscription__email", "subscription__phone")
    actions = ["retry_failed"]

    @admin.action(description="Retry selected failed rows now")
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[OutboxItem]) -> None:
        """FAILED -> PENDING (due now, attempts reset); steps already done are kept."""
        count = outbox_retry_failed(item_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} row(s) queued again.", messages.SUCCESS)


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop", "klaviyo_job_id", "state", "total_count", "completed_count",
                    "failed_count", "polls", "available_at", "created_at", "completed_at")
    list_filter = ("state", "shop")
    search_fields = ("klaviyo_job_id", "shop__domain")
