"""What the support admin shares: a read-only view for rows only services write."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """Work rows (outbox, deliveries, import batches, restocks), the Klaviyo call log and other
    rows that only services write: staff look and use the admin's actions (which call
    services), but never add, edit or delete a row by hand: a hand edit would skip the
    leasing, counters and records the services keep consistent."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        hidden = set(self.exclude or ())  # never shown, not even read-only (secrets)
        names = [field.name for field in self.model._meta.fields if field.name not in hidden]
        return names + [name for name in self.readonly_fields if name not in names]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
