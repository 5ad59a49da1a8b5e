"""The query and mutation roots the stand-in executes (what `graph.py` views are reached from).

Query: shop, products, productVariants, productsCount, productVariantsCount (default `limit`
10000 like Shopify; `limit: null` counts everything), locations, location, product,
productVariant, inventoryItem, node, nodes (<= 250 ids), bulkOperation, currentBulkOperation.
Mutation: bulkOperationRunQuery, bulkOperationCancel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from .filters import products_matching, variants_matching
from .graph import (
    Ctx,
    count_view,
    gid_number,
    item_view,
    lazy,
    location_view,
    node_view,
    product_view,
    shop_view,
    variant_view,
)
from .paging import connection
from .state import ITEM_BASE, Location, Product, Variant

COUNT_LIMIT = 10_000
MAX_IDS = 250

PRODUCT_SORT: dict[str, Callable[[Product], tuple[Any, ...]]] = {
    "ID": lambda p: (p.id,), "TITLE": lambda p: (p.title.lower(), p.id),
    "UPDATED_AT": lambda p: (p.updated_at.timestamp(), p.id),
    "CREATED_AT": lambda p: (p.created_at.timestamp(), p.id),
    "RELEVANCE": lambda p: (p.id,),
}
VARIANT_SORT: dict[str, Callable[[Variant], tuple[Any, ...]]] = {
    "ID": lambda v: (v.id,), "SKU": lambda v: (v.sku, v.id), "TITLE": lambda v: (v.title, v.id),
    "POSITION": lambda v: (v.product_id, v.position, v.id), "RELEVANCE": lambda v: (v.id,),
}


def _limit(args: dict[str, Any]) -> int | None:
    return args["limit"] if "limit" in args else COUNT_LIMIT


def _sort(table: dict[str, Any], value: str | None) -> Any:
    if value is not None and value not in table:
        raise GraphQLError(f"sortKey {value} is not supported by the Shopify stand-in",
                           extensions={"code": "NOT_IMPLEMENTED_IN_STANDIN"})
    return table[value or "ID"]


def query_root(ctx: Ctx) -> dict[str, Any]:
    shop = ctx.shop

    def products(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        return connection(products_matching(ctx, args.get("query")), args,
                          lambda p: product_view(ctx, p),
                          key=_sort(PRODUCT_SORT, args.get("sortKey")), unbounded=ctx.unbounded)

    def variants(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        return connection(variants_matching(ctx, args.get("query")), args,
                          lambda v: variant_view(ctx, v),
                          key=_sort(VARIANT_SORT, args.get("sortKey")), unbounded=ctx.unbounded)

    def locations(info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        rows: list[Location] = [loc for loc in ctx.app.world.snapshot(shop.locations.values())
                                if loc.is_active or args.get("includeInactive")]
        return connection(rows, args, lambda loc: location_view(ctx, loc),
                          key=lambda loc: (loc.id,), unbounded=ctx.unbounded)

    def nodes(info: GraphQLResolveInfo, ids: list[str]) -> list[Any]:
        if len(ids) > MAX_IDS:
            raise GraphQLError(f"The ids argument accepts at most {MAX_IDS} ids.",
                               extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"})
        return [node_view(ctx, value) for value in ids]

    def inventory_item(info: GraphQLResolveInfo, id: str) -> Any:
        number = gid_number(id, "InventoryItem")
        variant = shop.variant_by_item(number) if number > ITEM_BASE else None
        return item_view(ctx, variant) if variant else None

    def typed_node(kind: str) -> Callable[..., Any]:
        def resolve(info: GraphQLResolveInfo, id: str) -> Any:
            gid_number(id, kind)
            return node_view(ctx, id)
        return resolve

    def current(info: GraphQLResolveInfo, type: str = "QUERY") -> Any:
        operation = ctx.app.bulk.current(shop.domain)
        return operation.view() if operation else None

    return {
        "shop": lazy(lambda: shop_view(ctx)),
        "products": products, "productVariants": variants, "locations": locations,
        "productsCount": lambda info, **args: count_view(
            len(products_matching(ctx, args.get("query"))), _limit(args)),
        "productVariantsCount": lambda info, **args: count_view(
            len(variants_matching(ctx, args.get("query"))), _limit(args)),
        "inventoryItem": inventory_item, "nodes": nodes,
        "node": lambda info, id: node_view(ctx, id),
        "product": typed_node("Product"), "productVariant": typed_node("ProductVariant"),
        "location": typed_node("Location"), "bulkOperation": typed_node("BulkOperation"),
        "currentBulkOperation": current,
    }


def mutation_root(ctx: Ctx) -> dict[str, Any]:
    def run_query(info: GraphQLResolveInfo, query: str, **_: Any) -> dict[str, Any]:
        return ctx.app.bulk.start(ctx, query)

    def cancel(info: GraphQLResolveInfo, id: str) -> dict[str, Any]:
        return ctx.app.bulk.cancel(ctx, gid_number(id, "BulkOperation"))

    return {"bulkOperationRunQuery": run_query, "bulkOperationCancel": cancel}
