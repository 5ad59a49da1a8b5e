"""Catalog edits on a `ShopState` (the control API's verbs): products, variants, stock.

Each function takes `world.lock`, validates its input (HttpError 400 naming the field) and
bumps `updated_at` the way Shopify does (a variant edit moves its product's `updated_at` too).
They fire no webhooks themselves: the control API does that after the change is applied.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .state import (
    IMAGE_BASE,
    POLICIES,
    PRODUCT_BASE,
    STATUSES,
    VARIANT_BASE,
    Level,
    Product,
    ShopState,
    Variant,
    World,
    now,
    stamp,
)
from .web import HttpError


def _bad(field: str, message: str) -> HttpError:
    return HttpError(400, {"error": f"{field}: {message}", "field": field})


def _price(value: Any) -> Decimal:
    try:
        price = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise _bad("price", f"not a decimal: {value!r}") from None
    if price < 0:
        raise _bad("price", "must be >= 0")
    return price


def _choice(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    text = str(value).upper()
    if text not in allowed:
        raise _bad(field, f"one of {', '.join(allowed)}")
    return text


def _handle(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "product"


def _levels(shop: ShopState, stock: Any) -> dict[int, Level]:
    """`stock` is an int (at the first active location) or {location_id: available}."""
    levels = {loc_id: Level(loc_id, 0) for loc_id in shop.locations}
    if stock is None:
        return levels
    if isinstance(stock, dict):
        for key, value in stock.items():
            loc_id = int(key)
            if loc_id not in shop.locations:
                raise _bad("stock", f"unknown location {loc_id}")
            levels[loc_id] = Level(loc_id, int(value))
        return levels
    if not shop.locations:
        raise _bad("stock", "the shop has no location")
    first = shop.default_location().id
    levels[first] = Level(first, int(stock))
    return levels


def _variant(world: World, shop: ShopState, product: Product, spec: dict[str, Any],
             position: int) -> Variant:
    variant_id = int(spec.get("id") or VARIANT_BASE + world.counters.next("variant"))
    if variant_id in shop.variants:
        raise _bad("variants.id", f"variant {variant_id} exists")
    title = str(spec.get("title") or "Default Title")
    variant = Variant(
        id=variant_id, product_id=product.id, title=title,
        sku=str(spec.get("sku") or f"SKU-{variant_id}"),
        price=_price(spec.get("price", "10.00")),
        inventory_policy=_choice("inventory_policy", spec.get("inventory_policy", "DENY"),
                                 POLICIES),
        tracked=bool(spec.get("tracked", True)), position=position,
        levels=_levels(shop, spec.get("stock")),
    )
    shop.variants[variant_id] = variant
    product.variant_ids.append(variant_id)
    return variant


def product_add(world: World, shop: ShopState, spec: dict[str, Any]) -> Product:
    """Create a product with `spec["variants"]` (at least one; "Default Title" if none)."""
    title = str(spec.get("title") or "").strip()
    if not title:
        raise _bad("title", "required")
    with world.lock:
        product_id = int(spec.get("id") or PRODUCT_BASE + world.counters.next("product"))
        if product_id in shop.products:
            raise _bad("id", f"product {product_id} exists")
        product = Product(
            id=product_id, title=title, handle=str(spec.get("handle") or _handle(title)),
            status=_choice("status", spec.get("status", "ACTIVE"), STATUSES),
            published_at=now() if spec.get("published", True) else None,
            vendor=str(spec.get("vendor") or "Stand-in"),
            product_type=str(spec.get("product_type") or ""),
            description=str(spec.get("description") or ""),
            option_name=str(spec.get("option_name") or "Title"))
        _image(world, product, spec.get("image_url"))
        for position, variant_spec in enumerate(spec.get("variants") or [{}], start=1):
            _variant(world, shop, product, dict(variant_spec), position)
        shop.products[product_id] = product
        return product


def _image(world: World, product: Product, url: Any) -> None:
    if url:
        product.image_url = str(url)
        product.image_id = product.image_id or IMAGE_BASE + world.counters.next("image")
    elif url is not None:  # "" removes the image
        product.image_url = product.image_id = None


PRODUCT_FIELDS = {"title", "handle", "status", "published", "image_url", "vendor",
                  "product_type", "description", "variants", "add_variants"}
VARIANT_FIELDS = {"id", "title", "sku", "price", "inventory_policy", "tracked"}


def product_update(world: World, shop: ShopState, product_id: int,
                   changes: dict[str, Any]) -> Product:
    """Apply `changes` (PRODUCT_FIELDS; `variants`: [{id, ...VARIANT_FIELDS}])."""
    unknown = set(changes) - PRODUCT_FIELDS
    if unknown:
        raise _bad(sorted(unknown)[0], "unknown product field")
    with world.lock:
        product = shop.product(product_id)
        for name in ("title", "handle", "vendor", "product_type", "description"):
            if name in changes:
                setattr(product, name, str(changes[name]))
        if "status" in changes:
            product.status = _choice("status", changes["status"], STATUSES)
        if "published" in changes:
            product.published_at = (product.published_at or now()) if changes["published"] \
                else None
        if "image_url" in changes:
            _image(world, product, changes["image_url"] or "")
        for spec in changes.get("variants") or []:
            _variant_update(shop, product, dict(spec))
        for spec in changes.get("add_variants") or []:
            _variant(world, shop, product, dict(spec), len(product.variant_ids) + 1)
        product.updated_at = stamp(product.updated_at)
        return product


def _variant_update(shop: ShopState, product: Product, spec: dict[str, Any]) -> None:
    unknown = set(spec) - VARIANT_FIELDS
    if unknown:
        raise _bad(f"variants.{sorted(unknown)[0]}", "unknown variant field")
    variant = shop.variants.get(int(spec.get("id") or 0))
    if variant is None or variant.product_id != product.id:
        raise _bad("variants.id", f"no variant {spec.get('id')} on product {product.id}")
    if "title" in spec:
        variant.title = str(spec["title"])
    if "sku" in spec:
        variant.sku = str(spec["sku"])
    if "price" in spec:
        variant.price = _price(spec["price"])
    if "inventory_policy" in spec:
        variant.inventory_policy = _choice("inventory_policy", spec["inventory_policy"], POLICIES)
    if "tracked" in spec:
        variant.tracked = bool(spec["tracked"])
    variant.updated_at = stamp(variant.updated_at)


def product_delete(world: World, shop: ShopState, product_id: int) -> Product:
    with world.lock:
        product = shop.product(product_id)
        for variant_id in product.variant_ids:
            shop.variants.pop(variant_id, None)
        del shop.products[product_id]
        return product


def stock_set(world: World, shop: ShopState, *, inventory_item_id: int, location_id: int,
              available: int) -> tuple[Variant, Level]:
    """Set one level's `available` (Shopify's inventorySetQuantities, name "available")."""
    with world.lock:
        variant = shop.variant_by_item(int(inventory_item_id))
        if variant is None:
            raise _bad("inventory_item_id", f"unknown inventory item {inventory_item_id}")
        if int(location_id) not in shop.locations:
            raise _bad("location_id", f"unknown location {location_id}")
        level = variant.levels.get(int(location_id))
        if level is None:
            level = variant.levels[int(location_id)] = Level(int(location_id), 0)
        level.available = int(available)
        level.updated_at = stamp(level.updated_at)
        return variant, level


def bulk_generate(world: World, shop: ShopState, *, products: int, variants_per: int,
                  stock: int = 0, published: bool = True) -> dict[str, int]:
    """Many products fast (no webhooks): for catalog-sync tests and benchmarks."""
    if not 1 <= products <= 200_000:
        raise _bad("products", "between 1 and 200000")
    if not 1 <= variants_per <= 100:
        raise _bad("variants_per", "between 1 and 100")
    with world.lock:
        loc_ids = list(shop.locations)
        first = loc_ids[0] if loc_ids else None
        created_at = now()
        start = len(shop.products)
        for index in range(start, start + products):
            product = Product(id=PRODUCT_BASE + world.counters.next("product"),
                              title=f"Generated product {index + 1}",
                              handle=f"generated-product-{index + 1}",
                              published_at=created_at if published else None,
                              option_name="Size", created_at=created_at, updated_at=created_at)
            for position in range(1, variants_per + 1):
                variant_id = VARIANT_BASE + world.counters.next("variant")
                levels = {loc_id: Level(loc_id, stock if loc_id == first else 0, created_at)
                          for loc_id in loc_ids}
                shop.variants[variant_id] = Variant(
                    id=variant_id, product_id=product.id, title=f"Size {position}",
                    sku=f"GEN-{index + 1}-{position}", price=Decimal("10.00"),
                    position=position, levels=levels, created_at=created_at,
                    updated_at=created_at)
                product.variant_ids.append(variant_id)
            shop.products[product.id] = product
        return {"products": products, "variants": products * variants_per}
