"""Query cost as Shopify documents it, the per-shop leaky bucket, THROTTLED, MAX_COST_EXCEEDED."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.shopify_standin import StandinHandle


def _cost(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json()["extensions"]["cost"])


@pytest.mark.parametrize(("query", "requested"), [
    ("{ shop { name } }", 1),  # one object, scalars free
    ("{ products(first: 10) { nodes { title } } }", 2 + 10 * 1),
    ("{ products(first: 10) { edges { cursor node { title } } pageInfo { hasNextPage } } }",
     2 + 10 * 1),
    ("{ products(first: 10) { nodes { variants(first: 5) { nodes { sku } } } } }",
     2 + 10 * (1 + 2 + 5 * 1)),
    ("{ products(first: 4) { nodes { featuredImage { url } variants(first: 3) { nodes { "
     "inventoryItem { tracked } } } } } }", 2 + 4 * (1 + 1 + 2 + 3 * (1 + 1))),
    ('{ nodes(ids: ["gid://shopify/Product/1", "gid://shopify/Product/2"]) { id } }', 2),
    ('mutation { bulkOperationRunQuery(query: "{ shop { name } }") { userErrors { message } '
     '} }', 10),
])
def test_requested_cost_follows_shopifys_rules(shopify_standin: StandinHandle, shop: str,
                                               query: str, requested: int) -> None:
    token = shopify_standin.access_token(shop)
    cost = _cost(shopify_standin.graphql(shop, token, query))
    assert cost["requestedQueryCost"] == requested
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
    assert cost["throttleStatus"]["restoreRate"] == 100.0


def test_actual_cost_counts_what_came_back(shopify_standin: StandinHandle, shop: str) -> None:
    token = shopify_standin.access_token(shop)
    cost = _cost(shopify_standin.graphql(
        shop, token, "{ products(first: 10) { nodes { variants(first: 5) { nodes { sku } } } } }"))
    # one product with two variants came back: 2 + (1 + 2 + 2)
    assert cost["actualQueryCost"] == 7


def test_the_bucket_empties_then_throttles(shopify_standin: StandinHandle, shop: str) -> None:
    shopify_standin.admin.config(bucket_max=7, restore_rate=0)
    token = shopify_standin.access_token(shop)
    query = "{ products(first: 1) { nodes { title } } }"  # 3 points requested and spent
    first = _cost(shopify_standin.graphql(shop, token, query))
    assert first["throttleStatus"]["currentlyAvailable"] == 4
    assert _cost(shopify_standin.graphql(shop, token, query))["throttleStatus"][
        "currentlyAvailable"] == 1
    throttled = shopify_standin.graphql(shop, token, query)
    assert throttled.status_code == 200
    body = throttled.json()
    assert body["errors"] == [{"message": "Throttled", "extensions": {
        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}]
    assert "data" not in body
    assert body["extensions"]["cost"]["requestedQueryCost"] == 3
    assert shopify_standin.admin.stats(shop)["throttled"] == 1


def test_a_query_costing_more_than_the_bucket_holds_is_refused(
        shopify_standin: StandinHandle, shop: str) -> None:
    shopify_standin.admin.config(bucket_max=7)
    token = shopify_standin.access_token(shop)
    body = shopify_standin.graphql(shop, token,
                                   "{ products(first: 10) { nodes { title } } }").json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["cost"] == 12 and error["extensions"]["maxCost"] == 7


def test_the_single_query_limit_applies_whatever_the_bucket(shopify_standin: StandinHandle,
                                                            shop: str) -> None:
    token = shopify_standin.access_token(shop)
    body = shopify_standin.graphql(
        shop, token, "{ products(first: 250) { nodes { variants(first: 100) { nodes { id } } } } }"
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert body["errors"][0]["extensions"]["maxCost"] == 1000


def test_buckets_are_per_shop(shopify_standin: StandinHandle, shop: str) -> None:
    shopify_standin.admin.config(bucket_max=7, restore_rate=0)
    other = shopify_standin.new_shop("other-shop.myshopify.com")
    query = "{ products(first: 1) { nodes { title } } }"
    token = shopify_standin.access_token(shop)
    for _ in range(2):
        shopify_standin.graphql(shop, token, query)
    other_cost = _cost(shopify_standin.graphql(other, shopify_standin.access_token(other),
                                               query))
    assert other_cost["throttleStatus"]["currentlyAvailable"] == 5  # 7 - 2 (no products)
