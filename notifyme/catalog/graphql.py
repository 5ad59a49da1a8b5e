"""Admin GraphQL catalog data → snapshots (`notifyme.catalog.snapshots`), for the catalog sync.

Two shapes arrive: a `CatalogProductsPage` page (a product node with its `variants` connection
nested, each variant with `inventoryItem.inventoryLevels` nested) and a bulk operation's JSONL,
where every node of a nested connection is its own line pointing at its parent with
`__parentId` (shopify.dev "bulk operations: JSONL"). `BulkGrouper` folds such lines back into
the page shape, one product at a time, so both paths share `product_snapshot` and
`level_snapshots` and produce the same mirror.

Tolerant by design of how a document selects a connection (`nodes` or `edges { node }`) and an
id (`legacyResourceId`, or the `gid://shopify/<Type>/<n>` global id): the documents belong to
the Shopify client and may change shape; the numbers they carry may not. Ids exceed 2**53 and
stay Python ints. A variant's `quantity` is left unknown (None) on purpose: the sellable
quantity is computed from the per-location levels the sync applies next, and writing the
all-locations total first could look like a restock of a variant that is sold out where it
counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from notifyme.catalog.snapshots import (
    LevelSnapshot,
    LocationSnapshot,
    ProductSnapshot,
    VariantSnapshot,
)

GID_PREFIX = "gid://shopify/"


class CatalogDataError(ValueError):
    """Shopify's data lacks something a snapshot needs; `field` names it (for the sync error)."""

    def __init__(self, field_name: str) -> None:
        self.field = field_name
        super().__init__(f"Shopify catalog data without a usable {field_name}")


def gid_type(value: object) -> str:
    """`Product` for `gid://shopify/Product/1` (and `InventoryLevel` for one with a query)."""
    if not isinstance(value, str) or not value.startswith(GID_PREFIX):
        return ""
    return value[len(GID_PREFIX):].split("/", 1)[0]


def numeric_id(node: Mapping[str, Any], name: str = "id") -> int:
    """The node's numeric Shopify id: `legacyResourceId`, else the tail of its global id."""
    legacy = node.get("legacyResourceId")
    raw = legacy if legacy not in (None, "") else node.get("id")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        tail = raw.rsplit("/", 1)[-1].split("?", 1)[0]
        if tail.isdigit():
            return int(tail)
    raise CatalogDataError(name)


def connection_nodes(value: object) -> list[dict[str, Any]]:
    """The nodes of a connection selected as `nodes`, `edges { node }` or already a list."""
    if isinstance(value, list):
        return [n for n in value if isinstance(n, dict)]
    if not isinstance(value, dict):
        return []
    if isinstance(value.get("nodes"), list):
        return [n for n in value["nodes"] if isinstance(n, dict)]
    return [e["node"] for e in value.get("edges") or () if isinstance(e, dict)
            and isinstance(e.get("node"), dict)]


def timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _price(value: object) -> Decimal:
    if isinstance(value, dict):  # a MoneyV2 selection
        value = value.get("amount")
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal("0")
    except InvalidOperation:
        return Decimal("0")


def _image(node: Mapping[str, Any]) -> str:
    for key in ("featuredImage", "image"):
        image = node.get(key)
        if isinstance(image, dict) and isinstance(image.get("url"), str):
            return str(image["url"])
    media = node.get("featuredMedia")
    preview = media.get("preview") if isinstance(media, dict) else None
    image = preview.get("image") if isinstance(preview, dict) else None
    return str(image["url"]) if isinstance(image, dict) and image.get("url") else ""


def _published_online(node: Mapping[str, Any]) -> bool:
    """Published to the Online Store: `onlineStoreUrl` is set only for such products."""
    for key in ("publishedOnCurrentPublication", "publishedInOnlineStore"):
        if isinstance(node.get(key), bool):
            return bool(node[key])
    if "onlineStoreUrl" in node:
        return bool(node.get("onlineStoreUrl"))
    return node.get("publishedAt") is not None


def variant_snapshot(node: Mapping[str, Any]) -> VariantSnapshot:
    raw_item = node.get("inventoryItem")
    item: Mapping[str, Any] = raw_item if isinstance(raw_item, dict) else {}
    item_id = numeric_id(item, "inventoryItem.id") if item else None
    policy = str(node.get("inventoryPolicy") or "DENY").lower()
    return VariantSnapshot(
        shopify_id=numeric_id(node, "variant.id"),
        title=str(node.get("title") or ""),
        sku=str(node.get("sku") or ""),
        price=_price(node.get("price")),
        image_url=_image(node),
        inventory_item_id=item_id,
        inventory_tracked=bool(item.get("tracked", True)),
        inventory_policy="continue" if policy == "continue" else "deny",
        quantity=None,
        updated_at=timestamp(node.get("updatedAt")),
    )


def product_snapshot(node: Mapping[str, Any]) -> ProductSnapshot:
    """One `products` node (with every variant nested) → its snapshot."""
    title = node.get("title")
    if not isinstance(title, str):
        raise CatalogDataError("product.title")
    return ProductSnapshot(
        shopify_id=numeric_id(node, "product.id"),
        title=title,
        updated_at=timestamp(node.get("updatedAt")),
        handle=str(node.get("handle") or ""),
        image_url=_image(node),
        status=str(node.get("status") or "ACTIVE").lower(),
        published_online=_published_online(node),
        variants=tuple(variant_snapshot(v) for v in connection_nodes(node.get("variants"))),
        complete_variants=True,
    )


def _available(level: Mapping[str, Any]) -> int | None:
    if isinstance(level.get("available"), int):
        return int(level["available"])
    for quantity in level.get("quantities") or ():
        if isinstance(quantity, dict) and quantity.get("name") == "available":
            value = quantity.get("quantity")
            return int(value) if isinstance(value, int) else None
    return None


def level_snapshot(level: Mapping[str, Any], *, inventory_item_id: int) -> LevelSnapshot | None:
    """One `inventoryLevels` node → its snapshot (None when it states no `available`)."""
    location = level.get("location")
    available = _available(level)
    if not isinstance(location, dict) or available is None:
        return None
    return LevelSnapshot(inventory_item_id=inventory_item_id,
                         location_id=numeric_id(location, "location.id"),
                         available=available, updated_at=timestamp(level.get("updatedAt")))


def level_snapshots(product: Mapping[str, Any]) -> list[LevelSnapshot]:
    """Every per-location level nested under a product node's variants."""
    levels: list[LevelSnapshot] = []
    for variant in connection_nodes(product.get("variants")):
        item = variant.get("inventoryItem")
        if not isinstance(item, dict):
            continue
        item_id = numeric_id(item, "inventoryItem.id")
        for node in connection_nodes(item.get("inventoryLevels")):
            snapshot = level_snapshot(node, inventory_item_id=item_id)
            if snapshot is not None:
                levels.append(snapshot)
    return levels


def location_snapshot(node: Mapping[str, Any]) -> LocationSnapshot:
    return LocationSnapshot(
        shopify_id=numeric_id(node, "location.id"),
        name=str(node.get("name") or ""),
        is_active=bool(node.get("isActive", True)),
        fulfills_online_orders=bool(node.get("fulfillsOnlineOrders", True)),
    )


@dataclass
class _Pending:
    product: dict[str, Any]
    variants: dict[str, dict[str, Any]] = field(default_factory=dict)

    def folded(self) -> dict[str, Any]:
        return {**self.product, "variants": {"nodes": list(self.variants.values())}}


class BulkGrouper:
    """Fold a bulk JSONL stream back into product nodes (the page shape), in stream order.

    Shopify writes a parent's line before its children's and a product's children before the
    next product, so one product is held at a time: `feed` returns the previous product when
    a new one starts, `finish` the last. Children are recognised by their parent: a line whose
    `__parentId` is the current product is a variant; one whose parent is one of its variants
    (or their inventory items) is an inventory level, attached under that variant's
    `inventoryItem.inventoryLevels`. Lines of any other parent are counted in `orphans`.
    """

    def __init__(self) -> None:
        self.current: _Pending | None = None
        self.owners: dict[str, str] = {}  # variant or inventory item gid → variant gid
        self.orphans = 0

    def feed(self, line: Mapping[str, Any]) -> dict[str, Any] | None:
        parent = line.get("__parentId")
        if parent is None:
            if gid_type(line.get("id")) not in ("", "Product"):
                self.orphans += 1
                return None
            done = self.finish()
            self.current = _Pending(product={k: v for k, v in line.items()})
            return done
        self._attach(str(parent), {k: v for k, v in line.items() if k != "__parentId"})
        return None

    def _attach(self, parent: str, node: dict[str, Any]) -> None:
        current = self.current
        if current is not None and parent == current.product.get("id"):
            key = str(node.get("id"))
            current.variants[key] = node
            self.owners[key] = key
            item = node.get("inventoryItem")
            if isinstance(item, dict) and item.get("id"):
                self.owners[str(item["id"])] = key
            return
        owner = self.owners.get(parent)
        if current is None or owner is None:
            self.orphans += 1
            return
        variant = current.variants[owner]
        item = variant.get("inventoryItem")
        if not isinstance(item, dict):
            self.orphans += 1
            return
        item.setdefault("inventoryLevels", {"nodes": []})["nodes"].append(node)

    def finish(self) -> dict[str, Any] | None:
        done, self.current = self.current, None
        self.owners = {}
        return done.folded() if done is not None else None


def bulk_products(lines: Iterable[Mapping[str, Any]]) -> Iterator[dict[str, Any]]:
    """Product nodes (page shape) from a bulk JSONL stream of parsed lines."""
    grouper = BulkGrouper()
    for line in lines:
        product = grouper.feed(line)
        if product is not None:
            yield product
    last = grouper.finish()
    if last is not None:
        yield last


def bulk_levels(lines: Iterable[Mapping[str, Any]]) -> Iterator[list[LevelSnapshot]]:
    """A levels export (root lines: variants with `inventoryItem`, or inventory items; nested
    `inventoryLevels` lines point at their root with `__parentId`): one list of level
    snapshots per root line, in stream order (an item without levels gives [])."""
    current: list[LevelSnapshot] | None = None
    owners: dict[str, int] = {}  # the current root's gids (and its item's) → item id
    for line in lines:
        parent = line.get("__parentId")
        if parent is None:
            if current is not None:
                yield current
            item = line.get("inventoryItem")
            node: Mapping[str, Any] = item if isinstance(item, dict) else line
            item_id = numeric_id(node, "inventoryItem.id")
            owners = {str(line.get("id")): item_id, str(node.get("id")): item_id}
            current = []
            continue
        owner = owners.get(str(parent))
        if current is None or owner is None:
            continue
        level = level_snapshot(line, inventory_item_id=owner)
        if level is not None:
            current.append(level)
    if current is not None:
        yield current
