"""Support admin for the catalog mirror. Stock is read-only in the forms: it changes only
through `services.variant_update_stock` (webhooks, `manage.py restock`, the actions below), so
what other apps do about a stock change (start a restock) always happens."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from notifyme.catalog.models import Product, Variant
from notifyme.catalog.services import (
    SIMULATED_QUANTITY,
    variant_simulate_restock,
    variant_update_stock,
)

#: Shopify's image URLs are https; a scheme-less URL typed in a form is too.
URL_FIELDS: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}}


class VariantInline(admin.TabularInline):
    model = Variant
    formfield_overrides = URL_FIELDS
    extra = 0
    fields = ("shopify_id", "title", "sku", "price", "inventory_tracked", "inventory_policy",
              "available_quantity")
    readonly_fields = ("available_quantity",)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("title", "shop", "shopify_id", "handle", "shopify_updated_at")
    list_filter = ("shop",)
    search_fields = ("title", "handle", "=shopify_id", "shop__domain")
    inlines = [VariantInline]
    formfield_overrides = URL_FIELDS


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ("__str__", "shop", "shopify_id", "sku", "available_quantity",
                    "inventory_tracked", "inventory_policy")
    list_filter = ("shop", "inventory_tracked", "inventory_policy")
    search_fields = ("title", "sku", "=shopify_id", "product__title", "shop__domain")
    list_select_related = ("product", "shop")
    readonly_fields = ("available_quantity",)
    formfield_overrides = URL_FIELDS
    actions = ("simulate_restock", "sell_out")

    @admin.action(description=f"Simulate restock (sell out, then {SIMULATED_QUANTITY} or the "
                              "restock threshold back in stock)")
    def simulate_restock(self, request: HttpRequest, queryset: QuerySet[Variant]) -> None:
        for variant in queryset.select_related("shop", "product"):
            update = variant_simulate_restock(variant=variant)
            level = messages.SUCCESS if update.acted else messages.WARNING
            self.message_user(request, f"{variant}: {update.describe()}", level)

    @admin.action(description="Sell out (stock 0: the next restock alerts subscribers)")
    def sell_out(self, request: HttpRequest, queryset: QuerySet[Variant]) -> None:
        for variant in queryset.select_related("shop", "product"):
            update = variant_update_stock(variant=variant, quantity=0)
            self.message_user(request, f"{variant}: {update.describe()}")
