"""GraphQL catalog data → snapshots: a `products` page and a bulk JSONL stream of the same
catalog give the same snapshots (so paging and bulk write the same mirror)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from notifyme.catalog.graphql import (
    CatalogDataError,
    bulk_products,
    level_snapshots,
    location_snapshot,
    product_snapshot,
)
from notifyme.catalog.snapshots import LevelSnapshot

BIG = 2**60 + 7  # Shopify ids exceed 2**53: never through a float


def _variant(n: int, *, levels: list[tuple[int, int]]) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/ProductVariant/{BIG + n}", "legacyResourceId": str(BIG + n),
        "title": f"Size {n}", "sku": f"SKU-{n}", "price": "19.50",
        "inventoryPolicy": "CONTINUE" if n == 2 else "DENY", "image": None,
        "updatedAt": "2026-11-01T10:00:00Z",
        "inventoryItem": {
            "id": f"gid://shopify/InventoryItem/{BIG + 100 + n}", "tracked": n != 3,
            "inventoryLevels": {"nodes": [
                {"id": f"gid://shopify/InventoryLevel/{loc}?inventory_item_id={BIG + 100 + n}",
                 "location": {"id": f"gid://shopify/Location/{loc}"},
                 "updatedAt": "2026-11-01T10:00:00Z",
                 "quantities": [{"name": "available", "quantity": qty}]}
                for loc, qty in levels]},
        },
    }


PRODUCT = {
    "id": f"gid://shopify/Product/{BIG}", "legacyResourceId": str(BIG), "title": "Linen Shirt",
    "handle": "linen-shirt", "status": "ACTIVE", "onlineStoreUrl": "https://x/products/ls",
    "updatedAt": "2026-11-01T10:00:00Z", "featuredImage": {"url": "https://cdn.example/ls.jpg"},
    "variants": {"nodes": [_variant(1, levels=[(11, 0), (12, 4)]), _variant(2, levels=[]),
                           _variant(3, levels=[(11, 7)])]},
}


def _jsonl(product: dict[str, Any]) -> list[dict[str, Any]]:
    """The same product as Shopify's bulk JSONL: one line per node, children after parents."""
    top = {k: v for k, v in product.items() if k != "variants"}
    lines = [top]
    for variant in product["variants"]["nodes"]:
        item = {k: v for k, v in variant["inventoryItem"].items() if k != "inventoryLevels"}
        lines.append({**{k: v for k, v in variant.items() if k != "inventoryItem"},
                      "inventoryItem": item, "__parentId": product["id"]})
        for level in variant["inventoryItem"]["inventoryLevels"]["nodes"]:
            lines.append({**level, "__parentId": variant["id"]})
    return [json.loads(json.dumps(line)) for line in lines]


def test_a_page_node_becomes_a_product_snapshot_with_its_variants() -> None:
    snapshot = product_snapshot(PRODUCT)
    assert snapshot.shopify_id == BIG and snapshot.title == "Linen Shirt"
    assert snapshot.status == "active" and snapshot.published_online is True
    assert snapshot.updated_at == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert snapshot.image_url == "https://cdn.example/ls.jpg"
    first, second, third = snapshot.variants
    assert first.shopify_id == BIG + 1 and first.inventory_item_id == BIG + 101
    assert first.price == Decimal("19.50") and first.inventory_policy == "deny"
    assert first.quantity is None  # the levels decide the sellable quantity
    assert second.inventory_policy == "continue" and third.inventory_tracked is False
    assert level_snapshots(PRODUCT) == [
        LevelSnapshot(BIG + 101, 11, 0, datetime(2026, 11, 1, 10, tzinfo=UTC)),
        LevelSnapshot(BIG + 101, 12, 4, datetime(2026, 11, 1, 10, tzinfo=UTC)),
        LevelSnapshot(BIG + 103, 11, 7, datetime(2026, 11, 1, 10, tzinfo=UTC)),
    ]


def test_bulk_lines_fold_back_into_the_same_snapshots() -> None:
    other = {**PRODUCT, "id": "gid://shopify/Product/5", "legacyResourceId": "5",
             "onlineStoreUrl": None,
             "variants": {"nodes": [{**_variant(9, levels=[(11, 2)]),
                                     "id": "gid://shopify/ProductVariant/6",
                                     "legacyResourceId": "6"}]}}
    folded = list(bulk_products([*_jsonl(PRODUCT), *_jsonl(other)]))
    assert [product_snapshot(p) for p in folded] == [product_snapshot(PRODUCT),
                                                      product_snapshot(other)]
    assert [level_snapshots(p) for p in folded] == [level_snapshots(PRODUCT),
                                                     level_snapshots(other)]
    assert product_snapshot(folded[1]).published_online is False


def test_levels_may_point_at_the_inventory_item_instead_of_the_variant() -> None:
    lines = _jsonl(PRODUCT)
    for line in lines:
        if "location" in line:
            item = line["id"].split("inventory_item_id=")[1]
            line["__parentId"] = f"gid://shopify/InventoryItem/{item}"
    (folded,) = bulk_products(lines)
    assert level_snapshots(folded) == level_snapshots(PRODUCT)


def test_edges_and_global_ids_are_read_like_nodes_and_legacy_ids() -> None:
    edges = {**PRODUCT, "legacyResourceId": None,
             "variants": {"edges": [{"node": v} for v in PRODUCT["variants"]["nodes"]]}}
    assert product_snapshot(edges) == product_snapshot(PRODUCT)


def test_a_location_and_data_without_an_id_or_title() -> None:
    location = location_snapshot({"id": "gid://shopify/Location/11", "name": "Shop floor",
                                  "isActive": True, "fulfillsOnlineOrders": False})
    assert (location.shopify_id, location.fulfills_online_orders) == (11, False)
    with pytest.raises(CatalogDataError) as missing:
        product_snapshot({"title": "No id"})
    assert missing.value.field == "product.id"
    with pytest.raises(CatalogDataError):
        product_snapshot({"id": "gid://shopify/Product/1"})
