"""The support audit in the admin: read-only (rows are written by `notifyme.support.actions`)."""

from __future__ import annotations

from django.contrib import admin

from notifyme.core.admin import ReadOnlyAdmin
from notifyme.support.models import SupportAction


@admin.register(SupportAction)
class SupportActionAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_username", "shop_domain", "kind", "outcome", "detail",
                    "counts")
    list_filter = ("kind", "outcome")
    search_fields = ("shop_domain", "actor_username")
    date_hierarchy = "created_at"
