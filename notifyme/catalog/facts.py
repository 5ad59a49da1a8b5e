"""What a message says about a product: its storefront URL and the facts of one variant.

One copy for every message that names a product (the "Subscribed to Back in Stock" event, the
profile's last-request properties, the "Back in Stock" event of a restock). Pure functions of
loaded objects: the caller passes the shop it already has, so no query is made here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # typing only: models import this module
    from notifyme.catalog.models import Variant
    from notifyme.shops.models import Shop


def product_url(*, domain: str, handle: str, variant_id: int | None = None) -> str:
    """The storefront URL of a product (of one variant when given); "" without a handle."""
    if not handle:
        return ""
    base = f"https://{domain}/products/{handle}"
    return f"{base}?variant={variant_id}" if variant_id is not None else base


def product_facts(variant: Variant, shop: Shop) -> dict[str, Any]:
    """The variant's product facts as message properties (a new dict on every call)."""
    product = variant.product
    return {
        "product_title": product.title,
        "variant_title": variant.title,
        "product_id": product.shopify_id,
        "variant_id": variant.shopify_id,
        "sku": variant.sku,
        "price": str(variant.price),
        "currency": shop.currency,
        "image_url": variant.image_url or product.image_url,
        "product_url": product_url(domain=shop.domain, handle=product.handle,
                                   variant_id=variant.shopify_id),
        "shop_name": shop.display_name,
        "shop_domain": shop.domain,
    }
