"""REST webhook bodies shaped like Shopify's (the CLI's products/update fixture, §4)."""

from __future__ import annotations

from typing import Any

from tests.catalog.conftest import ITEM_ID, LOCATION_A, PRODUCT_ID, VARIANT_ID


def rest_variant(shopify_id: int = VARIANT_ID, *, item: int = ITEM_ID, quantity: int = 0,
                 updated_at: str = "2026-12-01T07:00:00-05:00", **fields: Any) -> dict[str, Any]:
    variant = {
        "id": shopify_id, "product_id": PRODUCT_ID, "title": "Large", "price": "19.99",
        "compare_at_price": None, "sku": f"SKU-{shopify_id}", "position": 1,
        "inventory_item_id": item, "inventory_quantity": quantity, "inventory_policy": "deny",
        "inventory_management": "shopify", "option1": "Large", "option2": None, "option3": None,
        "image_id": None, "created_at": "2026-11-01T07:00:00-05:00", "updated_at": updated_at,
        "admin_graphql_api_id": f"gid://shopify/ProductVariant/{shopify_id}",
    }
    variant.update(fields)
    return variant


def rest_product(*, updated_at: str = "2026-12-01T07:00:00-05:00",
                 variants: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    product = {
        "id": PRODUCT_ID, "title": "Linen Shirt", "handle": "linen-shirt", "status": "active",
        "vendor": "Acme", "product_type": "Shirts", "tags": "linen, summer",
        "body_html": "<p>Cool.</p>", "created_at": "2026-11-01T07:00:00-05:00",
        "published_at": "2026-11-01T07:00:00-05:00", "updated_at": updated_at,
        "admin_graphql_api_id": f"gid://shopify/Product/{PRODUCT_ID}",
        "variants": variants if variants is not None else [rest_variant(updated_at=updated_at)],
        "options": [{"name": "Size", "values": ["Large"]}],
        "images": [{"id": 850703190, "src": "https://cdn.shopify.com/s/files/shirt.jpg"}],
        "image": {"id": 850703190, "src": "https://cdn.shopify.com/s/files/shirt.jpg"},
    }
    product.update(fields)
    return product


def rest_level(available: int | None, *, item: int = ITEM_ID, location: int = LOCATION_A,
               updated_at: str = "2026-12-01T07:00:00-05:00") -> dict[str, Any]:
    return {"inventory_item_id": item, "location_id": location, "available": available,
            "updated_at": updated_at,
            "admin_graphql_api_id":
                f"gid://shopify/InventoryLevel/{location}?inventory_item_id={item}"}
