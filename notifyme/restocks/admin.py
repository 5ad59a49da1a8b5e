"""Support admin for restocks: progress columns and the "Cancel" action (a service), with
restocks, deliveries and stock watches read-only; settings edited through
`restock_settings_update`. ("Simulate restock" is an action of the catalog's variant admin: the
catalog owns stock writes, and restock detection runs on its stock hook.)"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from notifyme.core.admin import ReadOnlyAdmin
from notifyme.restocks.models import Restock, RestockDelivery, RestockSettings, StockWatch
from notifyme.restocks.services import SETTINGS_FIELDS, restock_cancel, restock_settings_update


@admin.register(Restock)
class RestockAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop", "variant", "quantity", "state", "progress", "failed",
                    "skipped", "send_mode", "started_at", "finished_at", "next_batch_at")
    list_filter = ("state", "send_mode", "shop")
    search_fields = ("=id", "shop__domain", "variant__product__title", "variant__sku")
    list_select_related = ("shop", "variant__product")
    actions = ["cancel"]

    @admin.display(description="Sent / total")
    def progress(self, obj: Restock) -> str:
        percent = 100 * obj.sent / obj.total if obj.total else 100
        return f"{obj.sent:,} / {obj.total:,} ({percent:.0f} %)"

    @admin.action(description="Cancel (unsent alerts are skipped)")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Restock]) -> None:
        for restock in queryset.filter(state=Restock.State.RUNNING):
            skipped = restock_cancel(restock=restock)
            self.message_user(request, f"Restock #{restock.pk} cancelled; {skipped} skipped.")


@admin.register(RestockDelivery)
class RestockDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("unique_id", "state", "position", "attempts", "available_at",
                    "leased_until", "sent_at", "last_error")
    list_filter = ("state",)
    search_fields = ("=restock__id", "unique_id", "subscription__email", "subscription__phone")
    show_full_result_count = False  # a restock can hold a million rows


@admin.register(RestockSettings)
class RestockSettingsAdmin(admin.ModelAdmin):
    list_display = ("shop", "threshold", "cooldown_hours", "send_mode", "subscribers_per_unit",
                    "batch_interval_minutes")
    list_select_related = ("shop",)
    fields = ("shop", *SETTINGS_FIELDS)
    readonly_fields = ("shop",)

    def save_model(self, request: HttpRequest, obj: RestockSettings, form: ModelForm[Any],
                   change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data
                   if name in SETTINGS_FIELDS}
        if changes:
            restock_settings_update(shop=obj.shop, **changes)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a shop's row is made with the defaults on first use

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StockWatch)
class StockWatchAdmin(ReadOnlyAdmin):
    """Why a stock rise did or did not start a restock: `armed` means it sold out since."""

    list_display = ("variant", "armed", "sold_out_at", "updated_at")
    list_filter = ("armed",)
    search_fields = ("=variant__shopify_id", "variant__product__title", "variant__shop__domain")
    list_select_related = ("variant__product",)
