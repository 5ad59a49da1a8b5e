"""Support admin for recovered revenue: orders and their attributed lines, read-only (only
the attribution service writes them); the window is the merchant's, set on the Revenue page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from notifyme.core.admin import ReadOnlyAdmin
from notifyme.revenue.models import AttributionSettings, RecoveredLine, RecoveredOrder


class RecoveredLineInline(admin.TabularInline):
    model = RecoveredLine
    extra = 0
    can_delete = False
    fields = ("shopify_line_id", "variant_shopify_id", "quantity", "unit_price", "amount",
              "restock", "delivery", "notified_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RecoveredOrder)
class RecoveredOrderAdmin(ReadOnlyAdmin):
    list_display = ("shopify_id", "shop", "ordered_at", "channel", "currency", "received_at")
    list_filter = ("channel", "shop")
    search_fields = ("=shopify_id", "=customer_id", "shop__domain")
    list_select_related = ("shop",)
    exclude = ("email_digest", "phone_digest")
    inlines = [RecoveredLineInline]


@admin.register(AttributionSettings)
class AttributionSettingsAdmin(ReadOnlyAdmin):
    list_display = ("shop", "window_days", "updated_at")
    list_select_related = ("shop",)


@admin.register(RecoveredLine)
class RecoveredLineAdmin(ReadOnlyAdmin):
    """The attributed lines on their own: what one restock earned, line by line."""

    list_display = ("order", "restock", "variant_shopify_id", "quantity", "amount", "notified_at")
    search_fields = ("=order__shopify_id", "=variant_shopify_id", "=restock__id")
    list_select_related = ("order", "restock")
