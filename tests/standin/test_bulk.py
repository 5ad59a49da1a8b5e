"""Bulk query operations: the mutation, status polling, and Shopify's JSONL result shape."""

from __future__ import annotations

import time
from typing import Any

import orjson
import requests
from graphql import execute_sync, parse

from sandboxes.shopify.app import StandinApp
from sandboxes.shopify.catalog import bulk_generate, product_add
from sandboxes.shopify.fastexec import FastExecutor
from sandboxes.shopify.graph import Ctx, resolve
from sandboxes.shopify.roots import query_root
from tests.fixtures.shopify_standin import StandinHandle

INNER = """{ products { edges { node { id title
    variants { edges { node { id sku inventoryItem { id tracked
        inventoryLevels { edges { node { location { id }
            quantities(names: ["available"]) { name quantity } } } } } } } } } } } }"""
RUN = """mutation Run($query: String!) { bulkOperationRunQuery(query: $query) {
    bulkOperation { id status } userErrors { field message code } } }"""
STATUS = """query($id: ID!) { bulkOperation(id: $id) {
    id status errorCode objectCount rootObjectCount url } }"""


def _poll(handle: StandinHandle, shop: str, token: str, operation_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        body = handle.graphql(shop, token, STATUS, {"id": operation_id}).json()
        operation = body["data"]["bulkOperation"]
        if operation["status"] not in ("CREATED", "RUNNING", "CANCELING"):
            return dict(operation)
        assert time.monotonic() < deadline, operation
        time.sleep(0.05)


def test_a_bulk_query_returns_jsonl_with_parent_ids(shopify_standin: StandinHandle,
                                                    shop: str) -> None:
    shopify_standin.admin.bulk_generate(shop, products=300, variants_per=2, stock=3)
    token = shopify_standin.access_token(shop)
    started = shopify_standin.graphql(shop, token, RUN, {"query": INNER}).json()
    run = started["data"]["bulkOperationRunQuery"]
    assert run["userErrors"] == []
    assert run["bulkOperation"]["status"] == "CREATED"
    done = _poll(shopify_standin, shop, token, run["bulkOperation"]["id"])
    assert done["status"] == "COMPLETED" and done["errorCode"] is None
    lines = [orjson.loads(line) for line in
             requests.get(done["url"], timeout=30).content.splitlines()]
    products = [line for line in lines if "__parentId" not in line]
    variants = [line for line in lines
                if line.get("id", "").startswith("gid://shopify/ProductVariant/")]
    levels = [line for line in lines if "quantities" in line]
    assert len(products) == 301  # no page limit inside a bulk query (300 + the jacket)
    assert len(variants) == 602 and len(levels) == 602
    assert int(done["objectCount"]) == len(lines) and int(done["rootObjectCount"]) == 301
    product_ids = {p["id"] for p in products}
    assert all(v["__parentId"] in product_ids for v in variants)
    first_variant = variants[0]
    assert first_variant["inventoryItem"]["tracked"] is True
    assert "inventoryLevels" not in first_variant["inventoryItem"]  # nodes became lines
    assert levels[0]["__parentId"] == first_variant["id"]  # nearest line: the variant
    assert levels[0]["quantities"][0]["name"] == "available"
    # each child follows its parent
    ids = [line.get("id") for line in lines]
    assert ids.index(first_variant["id"]) > ids.index(first_variant["__parentId"])
    current = shopify_standin.graphql(
        shop, token, "{ currentBulkOperation { id status } }").json()["data"]
    assert current["currentBulkOperation"]["id"] == done["id"]


def test_an_invalid_inner_query_is_a_user_error(shopify_standin: StandinHandle,
                                                shop: str) -> None:
    token = shopify_standin.access_token(shop)
    body = shopify_standin.graphql(shop, token, RUN,
                                   {"query": "{ products { edges { node { nope } } } }"}).json()
    run = body["data"]["bulkOperationRunQuery"]
    assert run["bulkOperation"] is None
    assert run["userErrors"][0]["field"] == ["query"]
    assert run["userErrors"][0]["code"] == "INVALID"


def test_one_bulk_query_at_a_time_per_shop(shopify_standin: StandinHandle, shop: str) -> None:
    shopify_standin.admin.config(bulk_pause=60)
    token = shopify_standin.access_token(shop)
    first = shopify_standin.graphql(shop, token, RUN, {"query": INNER}).json()
    operation_id = first["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
    second = shopify_standin.graphql(shop, token, RUN, {"query": INNER}).json()
    assert second["data"]["bulkOperationRunQuery"]["userErrors"][0]["code"] == (
        "OPERATION_IN_PROGRESS")
    cancel = shopify_standin.graphql(
        shop, token, "mutation($id: ID!) { bulkOperationCancel(id: $id) { "
                     "bulkOperation { status } userErrors { message } } }",
        {"id": operation_id}).json()
    assert cancel["data"]["bulkOperationCancel"]["bulkOperation"]["status"] == "CANCELING"
    assert _poll(shopify_standin, shop, token, operation_id)["status"] == "CANCELED"
    other = shopify_standin.new_shop("other-shop.myshopify.com")
    seen = shopify_standin.graphql(other, shopify_standin.access_token(other), STATUS,
                                   {"id": operation_id}).json()
    assert seen["data"]["bulkOperation"] is None  # another shop's operation is invisible


def test_the_bulk_executor_returns_what_graphql_core_returns() -> None:
    """Bulk queries use the lean executor (fastexec.py); it must agree with graphql-core."""
    app = StandinApp()
    shop = app.world.create_shop("fast.myshopify.com")
    app.world.add_location(shop, name="Outlet", fulfills_online_orders=False)
    bulk_generate(app.world, shop, products=20, variants_per=3, stock=2)
    product_add(app.world, shop, {"title": "Imaged", "image_url": "https://cdn.example/i.png",
                                  "variants": [{"tracked": False}]})
    query = parse("""query Q { shop { name } a: products { edges { node { __typename id title
        featuredMedia { __typename ... on MediaImage { image { url } } } ...P } } } }
        fragment P on Product { variants { nodes { id price inventoryPolicy
            inventoryItem { tracked inventoryLevels { nodes { location { name }
                quantities(names: ["available", "committed"]) { name quantity } } } } } } }""")
    ctx = Ctx(app=app, shop=shop, unbounded=True)
    expected = execute_sync(app.schema, query, root_value=query_root(ctx), context_value=ctx,
                            field_resolver=resolve)
    assert expected.errors is None
    assert FastExecutor(app.schema, query).run(query_root(ctx)) == expected.data
