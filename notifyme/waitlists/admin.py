"""Support view of waitlist imports: read-only, without the uploaded file (shoppers' contacts)."""

from __future__ import annotations

from django.contrib import admin

from notifyme.core.admin import ReadOnlyAdmin
from notifyme.waitlists.models import WaitlistImport


@admin.register(WaitlistImport)
class WaitlistImportAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop", "filename", "state", "total_rows", "next_row",
                    "created_count", "existing_count", "failed_count", "created_at",
                    "finished_at")
    list_filter = ("state", "shop")
    search_fields = ("shop__domain", "filename")
    exclude = ("source_csv",)
