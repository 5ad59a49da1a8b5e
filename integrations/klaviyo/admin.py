"""Support admin for Klaviyo connections and the outbound-call log. The key is never shown:
the encrypted field is excluded and only `key_display` (`pk_…abcd`) and the fingerprint appear."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt, SyncAttemptSubscription
from notifyme.core.admin import ReadOnlyAdmin


@admin.register(KlaviyoConnection)
class KlaviyoConnectionAdmin(admin.ModelAdmin):
    list_display = ("shop", "status", "account_name", "list_name", "key_display",
                    "last_error_kind", "last_error_at", "last_sync_at")
    list_filter = ("status", "last_error_kind")
    search_fields = ("shop__domain", "shop__name", "account_id", "account_name",
                     "key_fingerprint", "last_error_id")
    list_select_related = ("shop",)
    exclude = ("private_key_encrypted",)
    readonly_fields = (
        "shop", "key_display", "key_fingerprint", "account_id", "account_name", "list_id",
        "list_name", "scopes_verified", "verified_at", "connected_at", "disconnected_at",
        "last_sync_at", "last_error_kind", "last_error_message", "last_error_at", "last_error_id",
        "created_at", "updated_at", "key_last4",
    )

    @admin.display(description="API key")
    def key_display(self, obj: KlaviyoConnection) -> str:
        return obj.key_display or "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # connections are made by merchants (verification runs on connect)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # status and list change through the merchant's connect and list choice

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # the merchant disconnects (`connection_disconnect`)


@admin.register(SyncAttempt)
class SyncAttemptAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "shop", "operation", "method", "path", "status_code",
                    "error_kind", "error_code", "klaviyo_error_id", "duration_ms", "records",
                    "retry_count", "purpose", "subscription_id")
    list_filter = ("purpose", "operation", "status_code", "error_kind")
    # `subscription_id` is an opaque record id (this package knows no domain model): the
    # subscription admin links here with `?subscription_id=<id>`.
    search_fields = ("shop__domain", "klaviyo_error_id", "=subscription_id")
    list_select_related = ("shop",)
    date_hierarchy = "created_at"

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None
                       ) -> bool:
        """`?links__subscription_id=<id>`: every call that carried a record (batch calls
        included), which the subscription admin links to."""
        return lookup == "links__subscription_id" or super().lookup_allowed(lookup, value,
                                                                            request)


@admin.register(SyncAttemptSubscription)
class SyncAttemptSubscriptionAdmin(ReadOnlyAdmin):
    """Which call carried which record: a batch call has one row per subscription it carried
    (the shopper timeline reads these; here support can filter by either side)."""

    list_display = ("attempt", "subscription_id")
    search_fields = ("=subscription_id", "=attempt__id")
    list_select_related = ("attempt",)
