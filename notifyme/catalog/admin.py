from django.contrib import admin

from notifyme.catalog.models import Product, Variant


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    fields = ("shopify_id", "title", "sku", "price", "inventory_tracked", "inventory_policy",
              "available_quantity")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("title", "shop", "shopify_id", "handle", "shopify_updated_at")
    list_filter = ("shop",)
    search_fields = ("title", "handle", "=shopify_id", "shop__domain")
    inlines = [VariantInline]


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ("__str__", "shop", "shopify_id", "sku", "available_quantity",
                    "inventory_tracked", "inventory_policy")
    list_filter = ("shop", "inventory_tracked", "inventory_policy")
    search_fields = ("title", "sku", "=shopify_id", "product__title", "shop__domain")
    list_select_related = ("product", "shop")
