from django.contrib import admin

from notifyme.sync.models import OutboxItem


@admin.register(OutboxItem)
class OutboxItemAdmin(admin.ModelAdmin):
    list_display = ("id", "shop", "kind", "state", "attempts", "available_at", "leased_until",
                    "created_at", "completed_at")
    list_filter = ("state", "kind", "shop")
    search_fields = ("shop__domain", "subscription__email", "subscription__phone")
    raw_id_fields = ("subscription",)
