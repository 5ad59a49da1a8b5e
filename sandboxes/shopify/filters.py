"""Shopify search syntax over products and variants (`query:` of products/productVariants).

Fields: products — id, title, handle, status, vendor, product_type, updated_at, created_at,
published_status, sku; variants — id, sku, title, product_id, updated_at, inventory_quantity.
Bare words match the title. Unknown fields are ignored (paging.matches).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .graph import Ctx
from .paging import matches, parse_query
from .state import Product, ShopState, Variant


def product_fields(ctx: Ctx, product: Product) -> Callable[[str], Any]:
    shop = ctx.shop

    def field(name: str) -> Any:
        variants = [shop.variants[v] for v in product.variant_ids if v in shop.variants]
        table: dict[str, Callable[[], Any]] = {
            "id": lambda: product.id, "title": lambda: product.title,
            "default": lambda: product.title, "handle": lambda: product.handle,
            "status": lambda: product.status, "vendor": lambda: product.vendor,
            "product_type": lambda: product.product_type,
            "updated_at": lambda: product.updated_at, "created_at": lambda: product.created_at,
            "published_status": lambda: ["any", "published" if product.published_at
                                         else "unpublished"],
            "sku": lambda: [v.sku for v in variants],
        }
        return table[name]()

    return field


def variant_fields(variant: Variant, shop: ShopState) -> Callable[[str], Any]:
    def field(name: str) -> Any:
        table: dict[str, Callable[[], Any]] = {
            "id": lambda: variant.id, "sku": lambda: variant.sku,
            "title": lambda: variant.title, "default": lambda: variant.title,
            "product_id": lambda: variant.product_id, "updated_at": lambda: variant.updated_at,
            "inventory_quantity": lambda: variant.quantity(shop.locations),
        }
        return table[name]()

    return field


def products_matching(ctx: Ctx, query: str | None) -> list[Product]:
    terms = parse_query(query)
    products = ctx.app.world.snapshot(ctx.shop.products.values())
    return [p for p in products if matches(terms, product_fields(ctx, p))]


def variants_matching(ctx: Ctx, query: str | None) -> list[Variant]:
    terms = parse_query(query)
    variants = ctx.app.world.snapshot(ctx.shop.variants.values())
    return [v for v in variants if matches(terms, variant_fields(v, ctx.shop))]
