"""Support admin for shops: read-only (install and uninstall are Shopify's, through
`shop_install` / `shop_uninstall`); the encrypted tokens are never shown."""

from django.contrib import admin

from notifyme.core.admin import ReadOnlyAdmin
from notifyme.shops.models import Shop


@admin.register(Shop)
class ShopAdmin(ReadOnlyAdmin):
    list_display = ("domain", "name", "state", "country_code", "installed_at", "uninstalled_at")
    list_filter = ("state", "country_code")
    search_fields = ("domain", "name", "email")
    # Never shown, not even read-only: the encrypted tokens (and, with them, their expiries).
    exclude = ("access_token_encrypted", "access_token_expires_at", "refresh_token_encrypted",
               "refresh_token_expires_at")
