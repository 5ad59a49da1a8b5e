"""Support's view of privacy requests: the audit rows and the Klaviyo erasures, read-only (only
the services write them). The encrypted subject and contact are never shown."""

from __future__ import annotations

from django.contrib import admin

from notifyme.core.admin import ReadOnlyAdmin
from notifyme.privacy.models import ComplianceRequest, KlaviyoErasure


@admin.register(ComplianceRequest)
class ComplianceRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop_domain", "topic", "state", "klaviyo_outcome", "deliveries",
                    "received_at", "completed_at")
    list_filter = ("topic", "state", "klaviyo_outcome")
    search_fields = ("shop_domain", "shopify_request_id")
    exclude = ("subject_encrypted",)


@admin.register(KlaviyoErasure)
class KlaviyoErasureAdmin(ReadOnlyAdmin):
    list_display = ("id", "shop", "request", "state", "attempts", "available_at",
                    "completed_at", "last_error")
    list_filter = ("state",)
    exclude = ("contact_encrypted", "lease_token")
