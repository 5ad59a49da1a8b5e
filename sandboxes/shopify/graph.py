"""GraphQL views of the in-memory state: plain dicts, nested fields as callables.

`resolve` (the executor's field resolver) reads `source[field_name]` and calls callables with
`(info, **args)`. A field the schema has but the stand-in does not model raises a clear
"not implemented by the stand-in" error instead of a silent null. Interfaces (`Node`, `Media`)
resolve through `__typename`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, GraphQLResolveInfo

from .paging import connection
from .state import ITEM_BASE, Level, Location, Product, ShopState, Variant

if TYPE_CHECKING:
    from .app import StandinApp

QUANTITY_NAMES = ("available", "on_hand", "committed", "reserved", "incoming", "damaged",
                  "safety_stock", "quality_control")


@dataclass
class Ctx:
    app: StandinApp
    shop: ShopState
    unbounded: bool = False  # inside a bulk operation: connections return everything
    base_url: str = ""  # the stand-in's own URL (bulk result files are served from it)


def resolve(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    if isinstance(source, dict):
        name = info.field_name
        if name not in source:
            raise GraphQLError(f"{info.parent_type.name}.{name} is not implemented by the "
                               "Shopify stand-in (sandboxes/shopify/graph.py)",
                               extensions={"code": "NOT_IMPLEMENTED_IN_STANDIN"})
        value = source[name]
        return value(info, **args) if callable(value) else value
    return None


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


@functools.lru_cache(maxsize=4096)
def iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def lazy(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a no-argument view builder as a field value."""
    return lambda info, **_: fn()


def image_view(product: Product) -> dict[str, Any] | None:
    if not product.image_url:
        return None
    return {"__typename": "Image", "id": gid("ProductImage", product.image_id or 0),
            "url": product.image_url, "src": product.image_url,
            "originalSrc": product.image_url, "transformedSrc": product.image_url,
            "altText": product.title, "width": 1200, "height": 1200}


def media_view(product: Product) -> dict[str, Any] | None:
    image = image_view(product)
    if image is None:
        return None
    return {"__typename": "MediaImage", "id": gid("MediaImage", product.image_id or 0),
            "alt": product.title, "mediaContentType": "IMAGE", "status": "READY",
            "image": image, "preview": {"image": image, "status": "READY"},
            "createdAt": iso(product.created_at), "updatedAt": iso(product.updated_at)}


def count_view(value: int, limit: int | None = None) -> dict[str, Any]:
    if limit is not None and value > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": value, "precision": "EXACT"}


def product_view(ctx: Ctx, product: Product) -> dict[str, Any]:
    shop = ctx.shop
    variants = [shop.variants[v] for v in product.variant_ids if v in shop.variants]
    online = product.status == "ACTIVE" and product.published_at is not None
    url = f"https://{shop.domain}/products/{product.handle}"
    return {
        "__typename": "Product", "id": gid("Product", product.id),
        "legacyResourceId": str(product.id), "title": product.title, "handle": product.handle,
        "status": product.status, "publishedAt": iso(product.published_at),
        "onlineStoreUrl": url if online else None, "onlineStorePreviewUrl": url,
        "createdAt": iso(product.created_at), "updatedAt": iso(product.updated_at),
        "vendor": product.vendor, "productType": product.product_type,
        "description": product.description, "descriptionHtml": product.description,
        "tags": [], "isGiftCard": False, "totalVariants": len(variants),
        "variantsCount": lambda info, **_: count_view(len(variants)),
        "hasOnlyDefaultVariant": len(variants) == 1 and variants[0].title == "Default Title",
        "tracksInventory": any(v.tracked for v in variants),
        "totalInventory": lazy(lambda: sum(v.quantity(shop.locations) for v in variants)),
        "featuredImage": lazy(lambda: image_view(product)),
        "featuredMedia": lazy(lambda: media_view(product)),
        "options": [{"__typename": "ProductOption", "id": gid("ProductOption", product.id),
                     "name": product.option_name, "position": 1,
                     "values": [v.title for v in variants]}],
        "variants": lambda info, **args: connection(
            variants, args, lambda v: variant_view(ctx, v), key=lambda v: (v.position, v.id),
            unbounded=ctx.unbounded),
        "images": lambda info, **args: connection(
            [product] if product.image_url else [], args, image_view,
            key=lambda p: (p.image_id,), unbounded=ctx.unbounded),
        "media": lambda info, **args: connection(
            [product] if product.image_url else [], args, media_view,
            key=lambda p: (p.image_id,), unbounded=ctx.unbounded),
    }


def variant_view(ctx: Ctx, variant: Variant) -> dict[str, Any]:
    shop = ctx.shop
    product = shop.products.get(variant.product_id)
    quantity = variant.quantity(shop.locations)
    sellable = not variant.tracked or variant.inventory_policy == "CONTINUE" or quantity > 0
    return {
        "__typename": "ProductVariant", "id": gid("ProductVariant", variant.id),
        "legacyResourceId": str(variant.id), "title": variant.title,
        "displayName": f"{product.title if product else ''} - {variant.title}",
        "sku": variant.sku, "price": f"{variant.price:.2f}", "compareAtPrice": None,
        "inventoryPolicy": variant.inventory_policy, "inventoryQuantity": quantity,
        "availableForSale": sellable, "sellableOnlineQuantity": quantity,
        "position": variant.position, "barcode": None, "taxable": True,
        "createdAt": iso(variant.created_at), "updatedAt": iso(variant.updated_at),
        "selectedOptions": [{"name": product.option_name if product else "Title",
                             "value": variant.title}],
        "image": lazy(lambda: image_view(product) if product else None),
        "product": lazy(lambda: product_view(ctx, product) if product else None),
        "inventoryItem": lazy(lambda: item_view(ctx, variant)),
    }


def item_view(ctx: Ctx, variant: Variant) -> dict[str, Any]:
    shop = ctx.shop
    item_id = variant.inventory_item_id

    def levels(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        rows = [lvl for loc_id, lvl in variant.levels.items() if loc_id in shop.locations]
        return connection(rows, args, lambda lvl: level_view(ctx, variant, lvl),
                          key=lambda lvl: (lvl.location_id,), unbounded=ctx.unbounded)

    def one_level(info: GraphQLResolveInfo, locationId: str) -> dict[str, Any] | None:
        level = variant.levels.get(gid_number(locationId, "Location"))
        return level_view(ctx, variant, level) if level else None

    return {
        "__typename": "InventoryItem", "id": gid("InventoryItem", item_id),
        "legacyResourceId": str(item_id), "sku": variant.sku, "tracked": variant.tracked,
        "requiresShipping": True, "createdAt": iso(variant.created_at),
        "updatedAt": iso(variant.updated_at), "variant": lazy(lambda: variant_view(ctx, variant)),
        "locationsCount": lambda info, **_: count_view(len(variant.levels)),
        "inventoryLevels": levels, "inventoryLevel": one_level,
    }


def level_view(ctx: Ctx, variant: Variant, level: Level) -> dict[str, Any]:
    item_id = variant.inventory_item_id
    level_gid = f"gid://shopify/InventoryLevel/{level.location_id}?inventory_item_id={item_id}"

    def quantities(info: GraphQLResolveInfo, names: list[str]) -> list[dict[str, Any]]:
        unknown = [name for name in names if name not in QUANTITY_NAMES]
        if unknown:
            raise GraphQLError(f"The quantity name '{unknown[0]}' is not valid.",
                               extensions={"code": "BAD_REQUEST"})
        return [{"__typename": "InventoryQuantity",
                 "id": f"gid://shopify/InventoryQuantity/{level.location_id}?inventory_item_id="
                       f"{item_id}&name={name}", "name": name,
                 "quantity": level.available if name in ("available", "on_hand") else 0,
                 "updatedAt": iso(level.updated_at)} for name in names]

    location = ctx.shop.locations.get(level.location_id)
    return {"__typename": "InventoryLevel", "id": level_gid, "isActive": True,
            "canDeactivate": False, "createdAt": iso(variant.created_at),
            "updatedAt": iso(level.updated_at), "quantities": quantities,
            "location": lazy(lambda: location_view(ctx, location) if location else None),
            "item": lazy(lambda: item_view(ctx, variant))}


def location_view(ctx: Ctx, location: Location) -> dict[str, Any]:
    first = next(iter(ctx.shop.locations), None)
    return {"__typename": "Location", "id": gid("Location", location.id),
            "legacyResourceId": str(location.id), "name": location.name,
            "isActive": location.is_active,
            "fulfillsOnlineOrders": location.fulfills_online_orders,
            "shipsInventory": location.fulfills_online_orders, "hasActiveInventory": True,
            "isPrimary": location.id == first, "isFulfillmentService": False,
            "deactivatedAt": None, "createdAt": iso(location.created_at),
            "updatedAt": iso(location.created_at),
            "address": {"address1": "1 Stand-in Street", "city": "Ottawa",
                        "countryCode": ctx.shop.country, "formatted": ["1 Stand-in Street"]}}


def gid_number(value: str, kind: str) -> int:
    """The number in `gid://shopify/<kind>/<n>`; GraphQLError for anything else."""
    prefix = f"gid://shopify/{kind}/"
    tail = value[len(prefix):].split("?", 1)[0] if value.startswith(prefix) else ""
    if not tail.isdigit():
        raise GraphQLError(f"Invalid global id '{value[:100]}'",
                           extensions={"code": "argumentLiteralsIncompatible"})
    return int(tail)


def node_view(ctx: Ctx, value: str) -> dict[str, Any] | None:
    """`node(id:)`: Product, ProductVariant, InventoryItem, Location, BulkOperation, Shop."""
    if not value.startswith("gid://shopify/"):
        raise GraphQLError(f"Invalid global id '{value[:100]}'",
                           extensions={"code": "argumentLiteralsIncompatible"})
    kind = value[len("gid://shopify/"):].split("/", 1)[0]
    number = gid_number(value, kind)
    shop = ctx.shop
    if kind == "Product" and number in shop.products:
        return product_view(ctx, shop.products[number])
    if kind == "ProductVariant" and number in shop.variants:
        return variant_view(ctx, shop.variants[number])
    if kind == "InventoryItem":
        variant = shop.variant_by_item(number) if number > ITEM_BASE else None
        return item_view(ctx, variant) if variant else None
    if kind == "Location" and number in shop.locations:
        return location_view(ctx, shop.locations[number])
    if kind == "BulkOperation":
        operation = ctx.app.bulk.get(shop.domain, number)
        return operation.view() if operation else None
    if kind == "Shop" and number == shop.id:
        return shop_view(ctx)
    return None


def shop_view(ctx: Ctx) -> dict[str, Any]:
    shop = ctx.shop
    url = f"https://{shop.domain}"
    return {
        "__typename": "Shop", "id": gid("Shop", shop.id), "name": shop.name,
        "email": shop.email, "contactEmail": shop.email, "myshopifyDomain": shop.domain,
        "currencyCode": shop.currency, "enabledPresentmentCurrencies": [shop.currency],
        "ianaTimezone": "America/New_York", "timezoneOffset": "-0500",
        "timezoneOffsetMinutes": -300, "timezoneAbbreviation": "EST",
        "url": url, "shopOwnerName": "Stand-in Owner",
        "primaryDomain": {"id": gid("Domain", shop.id), "host": shop.domain, "url": url,
                          "sslEnabled": True},
        "billingAddress": {"id": gid("ShopAddress", shop.id), "country": shop.country,
                           "countryCodeV2": shop.country, "city": "Ottawa",
                           "address1": "1 Stand-in Street", "zip": "K1A 0A1"},
        "shopAddress": {"id": gid("ShopAddress", shop.id), "country": shop.country,
                        "countryCodeV2": shop.country, "city": "Ottawa",
                        "address1": "1 Stand-in Street", "zip": "K1A 0A1"},
        "plan": {"displayName": "Development", "partnerDevelopment": True,
                 "shopifyPlus": False, "publicDisplayName": "Development"},
        "currencyFormats": {"moneyFormat": "${{amount}}",
                            "moneyWithCurrencyFormat": f"${{{{amount}}}} {shop.currency}",
                            "moneyInEmailsFormat": "${{amount}}",
                            "moneyWithCurrencyInEmailsFormat": f"${{{{amount}}}} {shop.currency}"},
        "setupRequired": False, "checkoutApiSupported": True, "taxesIncluded": False,
        "weightUnit": "KILOGRAMS", "createdAt": iso(shop.created_at),
        "updatedAt": iso(shop.created_at),
    }
