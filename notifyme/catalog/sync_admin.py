"""Support admin for catalog syncs: read-only (only the sync writes them)."""

from __future__ import annotations

from django.contrib import admin

from notifyme.catalog.sync_models import CatalogSync, CatalogSyncSeen
from notifyme.core.admin import ReadOnlyAdmin


@admin.register(CatalogSync)
class CatalogSyncAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop", "state", "mode", "reason", "done_variants", "total_variants",
                    "cost_points", "started_at", "finished_at")
    list_filter = ("state", "mode", "reason")
    search_fields = ("shop__domain", "error")
    list_select_related = ("shop",)
    exclude = ("lease_token",)


@admin.register(CatalogSyncSeen)
class CatalogSyncSeenAdmin(ReadOnlyAdmin):
    """What a running paging sync has read so far (emptied when it finishes)."""

    list_display = ("sync", "shopify_id")
    search_fields = ("=shopify_id",)
    list_select_related = ("sync",)
