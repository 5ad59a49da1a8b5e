from django.contrib import admin

from notifyme.subscriptions.models import Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("contact", "shop", "variant", "status", "sync_state", "marketing_consent",
                    "source", "created_at", "notified_at")
    list_filter = ("status", "sync_state", "marketing_consent", "source", "shop")
    search_fields = ("email", "phone", "shop__domain", "=variant__shopify_id",
                     "variant__product__title", "klaviyo_profile_id")
    list_select_related = ("shop", "variant__product")
    readonly_fields = ("unsubscribe_token", "created_at", "updated_at", "notified_at",
                       "unsubscribed_at", "redacted_at", "synced_at", "consented_at")
    date_hierarchy = "created_at"
