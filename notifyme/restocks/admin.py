"""Support admin for restocks: progress columns, deliveries (read-only), settings, and a
"Simulate restock" action added to the catalog's variant admin (additively, from here)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from notifyme.catalog.admin import VariantAdmin
from notifyme.catalog.models import Variant
from notifyme.restocks.batches import restock_cancel
from notifyme.restocks.models import Restock, RestockDelivery, RestockSettings, StockWatch
from notifyme.restocks.services import restock_settings_get, variant_update_stock

SIMULATED_QUANTITY = 10


@admin.register(Restock)
class RestockAdmin(admin.ModelAdmin):
    list_display = ("id", "shop", "variant", "quantity", "state", "progress", "failed",
                    "skipped", "send_mode", "started_at", "finished_at", "next_batch_at")
    list_filter = ("state", "send_mode", "shop")
    search_fields = ("=id", "shop__domain", "variant__product__title", "variant__sku")
    list_select_related = ("shop", "variant__product")
    readonly_fields = [f.name for f in Restock._meta.fields]
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(RestockDelivery)
class RestockDeliveryAdmin(admin.ModelAdmin):
    list_display = ("unique_id", "state", "position", "attempts", "available_at",
                    "leased_until", "sent_at", "last_error")
    list_filter = ("state",)
    search_fields = ("=restock__id", "unique_id", "subscription__email", "subscription__phone")
    raw_id_fields = ("restock", "subscription")
    readonly_fields = [f.name for f in RestockDelivery._meta.fields]
    show_full_result_count = False  # a restock can hold a million rows

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(RestockSettings)
class RestockSettingsAdmin(admin.ModelAdmin):
    list_display = ("shop", "threshold", "cooldown_hours", "send_mode", "subscribers_per_unit",
                    "batch_interval_minutes")
    list_select_related = ("shop",)


@admin.action(description=f"Simulate restock (sell out, then {SIMULATED_QUANTITY} or the "
                          "threshold back in stock)")
def simulate_restock(modeladmin: admin.ModelAdmin, request: HttpRequest,
                     queryset: QuerySet[Variant]) -> None:
    for variant in queryset.select_related("shop", "product"):
        threshold = restock_settings_get(shop=variant.shop).threshold
        variant_update_stock(variant=variant, quantity=0)
        update = variant_update_stock(variant=variant,
                                      quantity=max(SIMULATED_QUANTITY, threshold))
        level = messages.SUCCESS if update.restock else messages.WARNING
        modeladmin.message_user(request, f"{variant}: {update.describe()}", level)


VariantAdmin.actions = [*(VariantAdmin.actions or []), simulate_restock]  # type: ignore[misc]


@admin.register(StockWatch)
class StockWatchAdmin(admin.ModelAdmin):
    """Why a stock rise did or did not start a restock: `armed` means it sold out since."""

    list_display = ("variant", "armed", "sold_out_at", "updated_at")
    list_filter = ("armed",)
    search_fields = ("=variant__shopify_id", "variant__product__title", "variant__shop__domain")
    list_select_related = ("variant__product",)
    readonly_fields = ("variant", "armed", "sold_out_at", "updated_at")
