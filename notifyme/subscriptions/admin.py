"""Support staff start here: find a subscriber, see both lifecycles, unsubscribe or re-sync.

Rows are read-only (`ReadOnlyAdmin`: no editable form): a signup, its consent and its state
change only through the services the actions call. Each row links to its shopper timeline,
Klaviyo calls, restock deliveries and sync work."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from notifyme.core.admin import ReadOnlyAdmin
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_requeue_sync, subscription_unsubscribe


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("contact", "shop", "variant", "status", "sync_state", "marketing_consent",
                    "sms_consent", "source", "created_at", "notified_at")
    list_filter = ("status", "sync_state", "marketing_consent", "sms_consent", "source", "shop")
    search_fields = ("email", "email_display", "phone", "shop__domain", "=variant__shopify_id",
                     "variant__product__title", "klaviyo_profile_id")
    list_select_related = ("shop", "variant__product")
    readonly_fields = ("support_links",)
    date_hierarchy = "created_at"
    actions = ("unsubscribe_selected", "requeue_sync")

    @admin.display(description="Support")
    def support_links(self, obj: Subscription) -> str:
        """The rows about this subscriber kept elsewhere: its timeline (every call, batch
        calls included, restock and webhook in one page), its Klaviyo calls (the call log
        links records opaquely: `links__subscription_id`), its restock deliveries and its
        sync work rows."""
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">Shopper timeline</a> · <a href="{}?links__subscription_id={}">'
            'Klaviyo calls</a> · <a href="{}?subscription__id__exact={}">Restock deliveries</a>'
            ' · <a href="{}?subscription__id__exact={}">Sync work</a>',
            reverse("support:shopper", args=[obj.pk]),
            reverse("admin:klaviyo_syncattempt_changelist"), obj.pk,
            reverse("admin:restocks_restockdelivery_changelist"), obj.pk,
            reverse("admin:sync_outboxitem_changelist"), obj.pk)

    @admin.action(description="Cancel selected alerts (marketing consent is left as it is)")
    def unsubscribe_selected(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        done = sum(subscription_unsubscribe(subscription=s) for s in queryset)
        skipped = queryset.count() - done
        self.message_user(request, f"Unsubscribed {done}; {skipped} had already ended.",
                          messages.SUCCESS)

    @admin.action(description="Re-queue Klaviyo sync for selected active subscriptions")
    def requeue_sync(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        done = sum(subscription_requeue_sync(subscription=s) for s in queryset)
        skipped = queryset.count() - done
        self.message_user(request, f"Queued {done} for sync; skipped {skipped} not active.",
                          messages.SUCCESS)
