"""Shopify's webhook payloads (REST JSON) → the catalog's snapshots, every used field checked.

`products/create|update` carry the REST product; `products/delete` only `{"id": …}`;
`inventory_levels/update` one inventory item's `available` at one location (platform notes §4).
A field that is missing or of the wrong type raises `PayloadError(field, message)`, naming the
field as a path (`variants[2].price`), so the stored event tells support what was wrong; nothing
is written for such a payload. Fields the mirror does not use are not read.

- `published_online`: REST's `published_at` is the Online Store publication date, so the
  product is on the Online Store when it is set and the product is `active`.
- `inventory_tracked`: `inventory_management == "shopify"` (null or a fulfillment service's
  handle: Shopify does not count this stock).
- `complete_variants`: REST lists at most 100 variants, so a payload with 100 may be truncated
  and never removes variants it does not list.
- Prices are strings ("19.99") → Decimal with two places. Ids are JSON integers (they exceed
  2**53; Python's json keeps them exact).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from notifyme.catalog.snapshots import LevelSnapshot, ProductSnapshot, VariantSnapshot

#: REST product payloads list at most this many variants.
REST_VARIANT_LIMIT = 100
STATUSES = ("active", "draft", "archived")
POLICIES = ("deny", "continue")
MAX_PRICE = Decimal("9999999999.99")
MAX_QUANTITY = 2**31 - 1


class PayloadError(ValueError):
    """The webhook payload is unusable: `field` (a path) and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(field, "must be a JSON object")
    return value


def _id(data: dict[str, Any], name: str, path: str = "") -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PayloadError(path + name, "must be a positive integer id")
    return value


def _int(data: dict[str, Any], name: str, path: str = "", *, null_as: int | None = None) -> int:
    value = data.get(name)
    if value is None and null_as is not None:
        return null_as
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_QUANTITY:
        raise PayloadError(path + name, "must be an integer")
    return value


def _text(data: dict[str, Any], name: str, path: str = "", *, max_length: int = 255,
          required: bool = False) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise PayloadError(path + name, "must be a string")
    if "\x00" in value:
        raise PayloadError(path + name, "contains a NUL character")
    if len(value) > max_length:
        raise PayloadError(path + name, f"must be at most {max_length} characters")
    return value


def _choice(data: dict[str, Any], name: str, choices: tuple[str, ...], path: str = "") -> str:
    value = data.get(name)
    if value not in choices:
        raise PayloadError(path + name, f"must be one of {', '.join(choices)}")
    return str(value)


def _time(data: dict[str, Any], name: str, path: str = "", *, required: bool = True
          ) -> datetime | None:
    value = data.get(name)
    if value is None and not required:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise PayloadError(path + name, "must be an ISO 8601 time with its UTC offset")
    return parsed


def _price(data: dict[str, Any], name: str, path: str) -> Decimal:
    value = data.get(name)
    try:
        price = Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or not 0 <= price <= MAX_PRICE:
        raise PayloadError(path + name, "must be a price string such as \"19.99\"")
    return price.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _image_src(value: Any, field: str) -> str:
    if value is None:
        return ""
    return _text(_object(value, field), "src", field + ".", max_length=1000)


def _images(payload: dict[str, Any]) -> dict[int, str]:
    images = payload.get("images") or []
    if not isinstance(images, list):
        raise PayloadError("images", "must be a list")
    found: dict[int, str] = {}
    for i, image in enumerate(images):
        path = f"images[{i}]."
        found[_id(_object(image, path[:-1]), "id", path)] = _image_src(image, path[:-1])
    return found


def _variant(data: Any, path: str, images: dict[int, str]) -> VariantSnapshot:
    variant = _object(data, path[:-1])
    image = ""
    if variant.get("image_id") is not None:
        image = images.get(_id(variant, "image_id", path), "")
    return VariantSnapshot(
        shopify_id=_id(variant, "id", path),
        title=_text(variant, "title", path),
        sku=_text(variant, "sku", path),
        price=_price(variant, "price", path),
        image_url=image,
        inventory_item_id=_id(variant, "inventory_item_id", path),
        inventory_tracked=variant.get("inventory_management") == "shopify",
        inventory_policy=_choice(variant, "inventory_policy", POLICIES, path),
        quantity=_int(variant, "inventory_quantity", path, null_as=0),
        updated_at=_time(variant, "updated_at", path, required=False),
    )


def product_snapshot_from_rest(payload: Any) -> ProductSnapshot:
    """`products/create` / `products/update` → a ProductSnapshot (PayloadError when unusable)."""
    product = _object(payload, "payload")
    variants = product.get("variants")
    if not isinstance(variants, list):
        raise PayloadError("variants", "must be a list")
    images = _images(product)
    status = _choice(product, "status", STATUSES)
    return ProductSnapshot(
        shopify_id=_id(product, "id"),
        title=_text(product, "title", required=True),
        updated_at=_time(product, "updated_at"),
        handle=_text(product, "handle"),
        image_url=_image_src(product.get("image"), "image"),
        status=status,
        published_online=_time(product, "published_at", required=False) is not None
        and status == "active",
        variants=tuple(_variant(v, f"variants[{i}].", images) for i, v in enumerate(variants)),
        complete_variants=len(variants) < REST_VARIANT_LIMIT,
    )


def product_id_from_rest_delete(payload: Any) -> int:
    """`products/delete` → the deleted product's id."""
    return _id(_object(payload, "payload"), "id")


def level_snapshot_from_rest(payload: Any) -> LevelSnapshot:
    """`inventory_levels/update` → a LevelSnapshot (`available` null, as for a location that
    does not stock the item, counts as 0)."""
    level = _object(payload, "payload")
    return LevelSnapshot(
        inventory_item_id=_id(level, "inventory_item_id"),
        location_id=_id(level, "location_id"),
        available=_int(level, "available", null_as=0),
        updated_at=_time(level, "updated_at"),
    )
