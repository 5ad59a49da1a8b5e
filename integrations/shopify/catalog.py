"""Thin typed reads of the catalog over `AdminClient` (GraphQL data out, no domain imports).

The catalog services convert what these return into `notifyme.catalog.snapshots`; this module
only pages, batches and unwraps. Page sizes keep each query's requested cost well under
Shopify's single-query limit (1000 points): 10 products of 20 variants cost about 700.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from integrations.shopify import documents as docs
from integrations.shopify.client import AdminClient
from integrations.shopify.errors import BulkOperationFailed, GraphQLErrors, ShopifyUnavailable
from integrations.shopify.http import scrub, shared_session, timeouts

PRODUCTS_PER_PAGE = 10
VARIANTS_PER_PRODUCT_PAGE = 20
VARIANTS_PER_PAGE = 100
VARIANTS_PER_INVENTORY_BATCH = 10
LEVELS_PER_ITEM = 25
LOCATIONS_PER_PAGE = 100
BULK_DONE = "COMPLETED"
BULK_FAILED = ("FAILED", "CANCELED", "EXPIRED")


def gid(kind: str, numeric_id: int | str) -> str:
    """`gid://shopify/<kind>/<id>` for a numeric (legacy) id."""
    return f"gid://shopify/{kind}/{int(numeric_id)}"


@dataclass(frozen=True)
class ProductsPage:
    #: Product nodes as GraphQL returns them, each with *every* variant in `variants.nodes`.
    products: list[dict[str, Any]]
    has_next: bool
    end_cursor: str | None


@dataclass(frozen=True)
class CatalogCounts:
    products: int
    variants: int
    #: False when Shopify reports a lower bound (`AT_LEAST`) rather than an exact count.
    exact: bool


@dataclass(frozen=True)
class BulkStatus:
    id: str
    status: str
    error_code: str
    object_count: int
    root_object_count: int
    url: str | None
    partial_data_url: str | None

    @property
    def done(self) -> bool:
        return self.status == BULK_DONE or self.status in BULK_FAILED


def _remaining_variants(client: AdminClient, product: dict[str, Any]) -> None:
    """Complete `product.variants.nodes` past the first page (products with many variants)."""
    variants = product.get("variants") or {}
    page = variants.get("pageInfo") or {}
    nodes = list(variants.get("nodes") or [])
    while page.get("hasNextPage"):
        data = client.run(docs.PRODUCT_VARIANTS_PAGE, {
            "id": gid("Product", product["legacyResourceId"]), "first": VARIANTS_PER_PAGE,
            "after": page.get("endCursor")})
        more = ((data.get("product") or {}).get("variants")) or {}
        nodes += more.get("nodes") or []
        page = more.get("pageInfo") or {}
    product["variants"] = {"nodes": nodes, "pageInfo": {"hasNextPage": False,
                                                        "endCursor": None}}


def products_page(client: AdminClient, *, after: str | None = None,
                  first: int = PRODUCTS_PER_PAGE) -> ProductsPage:
    """One page of products (by id), each with all its variants."""
    data = client.run(docs.CATALOG_PRODUCTS_PAGE, {
        "first": first, "after": after, "variantsFirst": VARIANTS_PER_PRODUCT_PAGE})
    connection = data.get("products") or {}
    products = list(connection.get("nodes") or [])
    for product in products:
        _remaining_variants(client, product)
    info = connection.get("pageInfo") or {}
    return ProductsPage(products, bool(info.get("hasNextPage")), info.get("endCursor"))


def catalog_counts(client: AdminClient) -> CatalogCounts:
    data = client.run(docs.CATALOG_COUNTS)
    products = data.get("productsCount") or {}
    variants = data.get("productVariantsCount") or {}
    exact = products.get("precision") == "EXACT" and variants.get("precision") == "EXACT"
    return CatalogCounts(int(products.get("count") or 0), int(variants.get("count") or 0),
                         exact)


def inventory_item_variant(client: AdminClient, *, inventory_item_id: int
                           ) -> dict[str, Any] | None:
    """The inventory item with its variant and product, or None when Shopify has no such item."""
    data = client.run(docs.INVENTORY_ITEM_VARIANT, {"id": gid("InventoryItem",
                                                              inventory_item_id)})
    item = data.get("inventoryItem")
    return dict(item) if item else None


def variants_inventory(client: AdminClient, *, variant_ids: Sequence[int]
                       ) -> list[dict[str, Any]]:
    """Variant nodes with inventoryItem (tracked, levels per location), in batches of
    `VARIANTS_PER_INVENTORY_BATCH`; ids Shopify does not know are left out."""
    found: list[dict[str, Any]] = []
    ids = [int(v) for v in variant_ids]
    for start in range(0, len(ids), VARIANTS_PER_INVENTORY_BATCH):
        batch = ids[start:start + VARIANTS_PER_INVENTORY_BATCH]
        data = client.run(docs.VARIANTS_INVENTORY, {
            "ids": [gid("ProductVariant", v) for v in batch], "levelsFirst": LEVELS_PER_ITEM})
        found += [node for node in data.get("nodes") or [] if node]
    return found


def locations(client: AdminClient) -> list[dict[str, Any]]:
    """Every location of the shop (inactive ones included, flagged `isActive`)."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        data = client.run(docs.LOCATIONS, {"first": LOCATIONS_PER_PAGE, "after": after})
        connection = data.get("locations") or {}
        found += connection.get("nodes") or []
        info = connection.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return found
        after = info.get("endCursor")


def bulk_start(client: AdminClient, *, query: str) -> str:
    """Start a bulk query; its operation id. userErrors (one already running…) raise
    `GraphQLErrors` with their codes."""
    data = client.run(docs.BULK_CATALOG_RUN, {"query": query})
    payload = data.get("bulkOperationRunQuery") or {}
    errors = payload.get("userErrors") or []
    if errors or not (payload.get("bulkOperation") or {}).get("id"):
        raise GraphQLErrors(messages=[str(e.get("message") or "") for e in errors]
                            or ["no bulk operation started"],
                            codes=[str(e.get("code") or "") for e in errors])
    return str(payload["bulkOperation"]["id"])


def bulk_catalog_start(client: AdminClient) -> str:
    """Start the bulk export of every product and variant (`documents.BULK_CATALOG_QUERY`)."""
    return bulk_start(client, query=docs.BULK_CATALOG_QUERY)


def bulk_inventory_start(client: AdminClient) -> str:
    """Start the bulk export of every inventory item's levels (`BULK_INVENTORY_QUERY`)."""
    return bulk_start(client, query=docs.BULK_INVENTORY_QUERY)


def bulk_operation(client: AdminClient, *, operation_id: str) -> BulkStatus:
    data = client.run(docs.BULK_OPERATION_STATUS, {"id": operation_id})
    op = data.get("bulkOperation") or {}
    return BulkStatus(
        id=str(op.get("id") or operation_id), status=str(op.get("status") or ""),
        error_code=str(op.get("errorCode") or ""), object_count=int(op.get("objectCount") or 0),
        root_object_count=int(op.get("rootObjectCount") or 0), url=op.get("url"),
        partial_data_url=op.get("partialDataUrl"))


def bulk_operation_wait(client: AdminClient, *, operation_id: str, interval: float = 1.0,
                        progress: Callable[[BulkStatus], None] | None = None,
                        timeout: float = 3600.0) -> BulkStatus:
    """Poll until the operation is done; `progress` sees every status. FAILED, CANCELED or
    EXPIRED (or no end within `timeout`) raise `BulkOperationFailed`."""
    deadline = time.monotonic() + timeout
    while True:
        status = bulk_operation(client, operation_id=operation_id)
        if progress is not None:
            progress(status)
        if status.status in BULK_FAILED:
            raise BulkOperationFailed(status_name=status.status, error_code=status.error_code)
        if status.status == BULK_DONE:
            return status
        if time.monotonic() > deadline:
            raise BulkOperationFailed(status_name="TIMEOUT")
        time.sleep(interval)


def bulk_results(url: str | None, *, timeout: float | None = None) -> Iterator[dict[str, Any]]:
    """Stream the JSONL result file line by line (a completed operation with no objects has
    no url: nothing). Nested nodes carry `__parentId` (the parent's `id`)."""
    if not url:
        return
    try:
        with shared_session().get(url, stream=True, timeout=timeouts(timeout)) as response:
            if response.status_code >= 400:
                raise ShopifyUnavailable(f"bulk result download {response.status_code}")
            for line in response.iter_lines():
                if line.strip():
                    yield json.loads(line)
    except requests.RequestException as exc:
        raise ShopifyUnavailable("bulk result download failed") from scrub(exc)
