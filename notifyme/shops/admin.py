from django.contrib import admin

from notifyme.shops.models import Shop


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("domain", "name", "state", "country_code", "installed_at", "uninstalled_at")
    list_filter = ("state", "country_code")
    search_fields = ("domain", "name", "email")
    readonly_fields = ("installed_at", "uninstalled_at", "created_at", "updated_at")
    exclude = ("access_token_encrypted",)
