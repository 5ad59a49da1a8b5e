"""Support admin for the catalog mirror. Forms save through the catalog's upserts; stock is
read-only in them: it changes only through `services.variant_update_stock` (webhooks,
`manage.py restock`, the actions below, an upsert that changes tracking or policy), so what
other apps do about a stock change (start a restock) always happens. A product's variants are
listed on its page and edited on their own. What Shopify owns (status, publication, removal,
inventory item ids, locations and per-location levels) is read-only here: webhooks and the
catalog sync write it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from notifyme.catalog.models import CatalogSettings, InventoryLevel, Location, Product, Variant
from notifyme.catalog.services import (
    SIMULATED_QUANTITY,
    product_upsert,
    variant_simulate_restock,
    variant_update_stock,
    variant_upsert,
)
from notifyme.core.admin import ReadOnlyAdmin

#: Shopify's image URLs are https; a scheme-less URL typed in a form is too.
URL_FIELDS: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}}


class VariantInline(admin.TabularInline):
    model = Variant
    formfield_overrides = URL_FIELDS
    extra = 0
    fields = ("shopify_id", "title", "sku", "price", "inventory_tracked", "inventory_policy",
              "available_quantity")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


SHOPIFY_OWNED_PRODUCT = ("status", "published_online", "removed_at")
SHOPIFY_OWNED_VARIANT = ("inventory_item_id", "removed_at")


def _keys_read_only(obj: Any, names: tuple[str, ...]) -> tuple[str, ...]:
    """An existing row's shop and Shopify id are its key: an upsert cannot move it."""
    return ("shop", "shopify_id", *names) if obj is not None else names


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("title", "shop", "shopify_id", "handle", "status", "published_online",
                    "removed_at", "shopify_updated_at")
    list_filter = ("shop", "status", "published_online", ("removed_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "handle", "=shopify_id", "shop__domain")
    inlines = [VariantInline]
    formfield_overrides = URL_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return _keys_read_only(obj, SHOPIFY_OWNED_PRODUCT)

    def save_model(self, request: HttpRequest, obj: Product, form: ModelForm[Any],
                   change: bool) -> None:
        saved, _ = product_upsert(
            shop=obj.shop, shopify_id=obj.shopify_id, title=obj.title, handle=obj.handle,
            image_url=obj.image_url, shopify_updated_at=obj.shopify_updated_at)
        obj.pk = saved.pk


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ("__str__", "shop", "shopify_id", "sku", "available_quantity",
                    "inventory_tracked", "inventory_policy", "removed_at")
    list_filter = ("shop", "inventory_tracked", "inventory_policy")
    search_fields = ("title", "sku", "=shopify_id", "=inventory_item_id", "product__title",
                     "shop__domain")
    list_select_related = ("product", "shop")
    exclude = ("shop",)  # the product's
    formfield_overrides = URL_FIELDS
    actions = ("simulate_restock", "sell_out")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return _keys_read_only(obj, ("available_quantity", *SHOPIFY_OWNED_VARIANT))

    def save_model(self, request: HttpRequest, obj: Variant, form: ModelForm[Any],
                   change: bool) -> None:
        """Through `variant_upsert`: a change of tracking or policy is a stock write."""
        saved = variant_upsert(
            product=obj.product, shopify_id=obj.shopify_id, title=obj.title, sku=obj.sku,
            price=obj.price, image_url=obj.image_url, quantity=obj.available_quantity,
            inventory_tracked=obj.inventory_tracked, inventory_policy=obj.inventory_policy,
            shopify_updated_at=obj.shopify_updated_at)
        obj.pk, obj.shop_id = saved.variant.pk, saved.variant.shop_id
        if saved.stock is not None:
            self.message_user(request, f"{saved.variant}: {saved.stock.describe()}")

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


@admin.register(Location)
class LocationAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "shop", "shopify_id", "is_active", "fulfills_online_orders")
    list_filter = ("shop", "is_active", "fulfills_online_orders")
    search_fields = ("name", "=shopify_id", "shop__domain")


@admin.register(InventoryLevel)
class InventoryLevelAdmin(ReadOnlyAdmin):
    list_display = ("variant", "location", "available", "shopify_updated_at")
    list_filter = ("shop",)
    search_fields = ("=variant__shopify_id", "=variant__inventory_item_id", "variant__sku")
    list_select_related = ("variant__product", "location")


@admin.register(CatalogSettings)
class CatalogSettingsAdmin(ReadOnlyAdmin):
    list_display = ("shop", "alert_location_ids", "updated_at")


# Catalog syncs (their own module, like the model).
from notifyme.catalog import sync_admin  # noqa: E402, F401
