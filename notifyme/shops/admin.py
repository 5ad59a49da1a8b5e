"""Support admin for shops: read-only (install and uninstall are Shopify's, through
`shop_install` / `shop_uninstall`); the encrypted access and refresh tokens are never shown
(their expiry times are)."""

from django.contrib import admin

from notifyme.core.admin import ReadOnlyAdmin
from notifyme.shops.models import Shop


@admin.register(Shop)
class ShopAdmin(ReadOnlyAdmin):
    list_display = ("domain", "name", "state", "country_code", "installed_at", "uninstalled_at")
    list_filter = ("state", "country_code")
    search_fields = ("domain", "name", "email")
    exclude = ("access_token_encrypted", "refresh_token_encrypted")
