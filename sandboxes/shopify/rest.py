"""Webhook bodies: the REST resources Shopify serialises for each topic (API 2026-10).

Timestamps are the shop's local time with its offset (demo shops are in New York, EST), as
Shopify's REST payloads are; prices are strings; ids are JSON integers (inventory item ids are
above 2**53). Compliance topics have their documented shapes (`compliance_payload`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from .state import Level, Location, Product, ShopState, Variant

SHOP_TZ = timezone(timedelta(hours=-5))
IANA_TZ = "America/New_York"


def rest_time(moment: datetime | None) -> str | None:
    return moment.astimezone(SHOP_TZ).isoformat() if moment else None


def image_rest(product: Product) -> dict[str, Any] | None:
    if not product.image_url:
        return None
    return {"id": product.image_id, "alt": product.title, "position": 1,
            "product_id": product.id, "created_at": rest_time(product.created_at),
            "updated_at": rest_time(product.updated_at),
            "admin_graphql_api_id": f"gid://shopify/ProductImage/{product.image_id}",
            "width": 1200, "height": 1200, "src": product.image_url, "variant_ids": []}


def variant_rest(shop: ShopState, product: Product, variant: Variant) -> dict[str, Any]:
    quantity = variant.quantity(shop.locations)
    return {
        "id": variant.id, "product_id": product.id, "title": variant.title,
        "price": f"{variant.price:.2f}", "position": variant.position,
        "inventory_policy": variant.inventory_policy.lower(), "compare_at_price": None,
        "option1": variant.title, "option2": None, "option3": None,
        "created_at": rest_time(variant.created_at), "updated_at": rest_time(variant.updated_at),
        "taxable": True, "barcode": None, "sku": variant.sku,
        "inventory_management": "shopify" if variant.tracked else None,
        "inventory_item_id": variant.inventory_item_id, "inventory_quantity": quantity,
        "old_inventory_quantity": quantity, "requires_shipping": True, "grams": 0,
        "weight": 0.0, "weight_unit": "kg", "image_id": None,
        "admin_graphql_api_id": f"gid://shopify/ProductVariant/{variant.id}",
    }


def product_rest(shop: ShopState, product: Product) -> dict[str, Any]:
    variants = [shop.variants[v] for v in product.variant_ids if v in shop.variants]
    image = image_rest(product)
    return {
        "admin_graphql_api_id": f"gid://shopify/Product/{product.id}",
        "body_html": product.description, "created_at": rest_time(product.created_at),
        "handle": product.handle, "id": product.id, "product_type": product.product_type,
        "published_at": rest_time(product.published_at), "template_suffix": None,
        "title": product.title, "updated_at": rest_time(product.updated_at),
        "vendor": product.vendor, "status": product.status.lower(), "published_scope": "web",
        "tags": "", "variants": [variant_rest(shop, product, v) for v in variants],
        "options": [{"name": product.option_name, "id": product.id, "product_id": product.id,
                     "position": 1, "values": [v.title for v in variants]}],
        "images": [image] if image else [], "image": image, "media": [],
        "variant_gids": [{"admin_graphql_api_id": f"gid://shopify/ProductVariant/{v.id}",
                          "updated_at": (v.updated_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"))}
                         for v in variants],
        "has_variants_that_requires_components": False, "category": None,
    }


def level_rest(variant: Variant, level: Level) -> dict[str, Any]:
    return {"inventory_item_id": variant.inventory_item_id, "location_id": level.location_id,
            "available": level.available, "updated_at": rest_time(level.updated_at),
            "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{level.location_id}"
                                    f"?inventory_item_id={variant.inventory_item_id}"}


def shop_rest(shop: ShopState) -> dict[str, Any]:
    primary: Location | None = next(iter(shop.locations.values()), None)
    return {
        "id": shop.id, "name": shop.name, "email": shop.email, "domain": shop.domain,
        "province": "", "country": shop.country, "address1": "1 Stand-in Street",
        "zip": "10001", "city": "New York", "source": None, "phone": "",
        "created_at": rest_time(shop.created_at), "updated_at": rest_time(shop.created_at),
        "customer_email": shop.email, "latitude": None, "longitude": None,
        "primary_locale": "en", "country_code": shop.country, "country_name": shop.country,
        "currency": shop.currency, "timezone": "(GMT-05:00) America/New_York",
        "iana_timezone": IANA_TZ, "shop_owner": "Stand-in Owner",
        "money_format": "${{amount}}", "weight_unit": "kg",
        "plan_display_name": "Development", "plan_name": "partner_test",
        "myshopify_domain": shop.domain, "password_enabled": False, "has_storefront": True,
        "primary_location_id": primary.id if primary else None,
        "multi_location_enabled": True, "setup_required": False,
        "enabled_presentment_currencies": [shop.currency],
    }


def compliance_payload(shop: ShopState, topic: str, given: dict[str, Any] | None
                       ) -> dict[str, Any]:
    """The documented body for a compliance topic; `given` keys override the defaults."""
    base: dict[str, Any] = {"shop_id": shop.id, "shop_domain": shop.domain}
    if topic == "customers/data_request":
        base.update(orders_requested=[], data_request={"id": 9_999},
                    customer={"id": 191_167, "email": "john@example.com",
                              "phone": "+15555550100"})
    elif topic == "customers/redact":
        base.update(orders_to_redact=[], customer={"id": 191_167, "email": "john@example.com",
                                                   "phone": "+15555550100"})
    base.update(given or {})
    return base
