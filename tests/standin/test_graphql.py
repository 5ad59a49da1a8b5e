"""The Admin GraphQL endpoint: the official schema's validation, data from the state, paging."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.shopify_standin import StandinHandle

CATALOG = """
query CatalogPage($after: String) {
  products(first: 2, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id legacyResourceId title handle status publishedAt onlineStoreUrl updatedAt
      featuredMedia { ... on MediaImage { image { url } } }
      variants(first: 10) {
        nodes {
          id legacyResourceId title sku price inventoryPolicy inventoryQuantity updatedAt
          inventoryItem { id tracked }
        }
      }
    }
  }
}"""


@pytest.fixture
def token(shopify_standin: StandinHandle, shop: str) -> str:
    return shopify_standin.access_token(shop)


def _data(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return dict(body["data"])


def test_an_unknown_field_is_rejected_like_shopify(shopify_standin: StandinHandle, shop: str,
                                                   token: str) -> None:
    response = shopify_standin.graphql(shop, token, "{ shop { name bogusField } }")
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert "bogusField" in error["message"]
    assert error["locations"] == [{"line": 1, "column": 15}]
    assert error["extensions"]["code"] == "undefinedField"


def test_a_missing_required_argument_and_a_syntax_error_are_errors(
        shopify_standin: StandinHandle, shop: str, token: str) -> None:
    missing = shopify_standin.graphql(shop, token, "{ inventoryItem { id } }").json()
    assert missing["errors"][0]["extensions"]["code"] == "missingRequiredArguments"
    broken = shopify_standin.graphql(shop, token, "{ shop { name }").json()
    assert broken["errors"][0]["extensions"]["code"] == "syntaxError"


def test_no_token_is_a_401(shopify_standin: StandinHandle, shop: str) -> None:
    response = shopify_standin.graphql(shop, None, "{ shop { name } }")
    assert response.status_code == 401
    assert "Invalid API key or access token" in response.json()["errors"]


def test_a_body_without_query_is_a_400(shopify_standin: StandinHandle, shop: str,
                                       token: str) -> None:
    import requests

    response = requests.post(shopify_standin.graphql_url(shop), json={"q": 1},
                             headers={"X-Shopify-Access-Token": token}, timeout=10)
    assert response.status_code == 400


def test_products_page_through_with_cursors(shopify_standin: StandinHandle, shop: str,
                                            token: str) -> None:
    for index in range(3):
        shopify_standin.admin.add_product(shop, f"Extra {index}", notify=False,
                                          image_url=f"https://cdn.example/{index}.png")
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = _data(shopify_standin.graphql(shop, token, CATALOG, {"after": after}))["products"]
        seen += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [p["title"] for p in seen] == ["Field Jacket", "Extra 0", "Extra 1", "Extra 2"]
    jacket = seen[0]
    assert jacket["id"] == f"gid://shopify/Product/{jacket['legacyResourceId']}"
    assert jacket["status"] == "ACTIVE" and jacket["publishedAt"].endswith("Z")
    assert jacket["onlineStoreUrl"] == f"https://{shop}/products/field-jacket"
    assert jacket["featuredMedia"] is None
    assert seen[1]["featuredMedia"] == {"image": {"url": "https://cdn.example/0.png"}}
    small, medium = jacket["variants"]["nodes"]
    assert (small["sku"], small["price"], small["inventoryQuantity"]) == ("FJ-S", "120.00", 4)
    assert medium["inventoryQuantity"] == 0 and medium["inventoryPolicy"] == "DENY"
    item_number = int(small["inventoryItem"]["id"].rsplit("/", 1)[1])
    assert item_number > 2**53 and small["inventoryItem"]["tracked"] is True


def test_first_is_required_and_bounded(shopify_standin: StandinHandle, shop: str,
                                       token: str) -> None:
    no_first = shopify_standin.graphql(shop, token, "{ products { nodes { id } } }").json()
    assert "first or last" in no_first["errors"][0]["message"]
    too_many = shopify_standin.graphql(shop, token,
                                       "{ products(first: 251) { nodes { id } } }").json()
    assert "250" in too_many["errors"][0]["message"]


def test_inventory_item_leads_to_its_variant_and_product(shopify_standin: StandinHandle,
                                                         shop: str, token: str) -> None:
    variant = shopify_standin.admin.shop(shop)["products"][0]["variants"][1]
    query = """query($id: ID!) { inventoryItem(id: $id) {
        id tracked variant { id legacyResourceId product { id title } }
        inventoryLevels(first: 5) { nodes { location { id name isActive fulfillsOnlineOrders }
                                            quantities(names: ["available", "on_hand"]) {
                                              name quantity } } } } }"""
    data = _data(shopify_standin.graphql(
        shop, token, query, {"id": f"gid://shopify/InventoryItem/{variant['inventory_item_id']}"}))
    item = data["inventoryItem"]
    assert item["variant"]["legacyResourceId"] == str(variant["id"])
    assert item["variant"]["product"]["title"] == "Field Jacket"
    [level] = item["inventoryLevels"]["nodes"]
    assert level["location"]["name"] == "Main warehouse"
    assert level["quantities"] == [{"name": "available", "quantity": 0},
                                   {"name": "on_hand", "quantity": 0}]
    unknown = _data(shopify_standin.graphql(
        shop, token, query, {"id": "gid://shopify/InventoryItem/10000000000000001"}))
    assert unknown["inventoryItem"] is None


def test_nodes_resolve_variants_products_and_unknown_ids(shopify_standin: StandinHandle,
                                                         shop: str, token: str) -> None:
    product = shopify_standin.admin.shop(shop)["products"][0]
    ids = [f"gid://shopify/ProductVariant/{v['id']}" for v in product["variants"]]
    ids += [f"gid://shopify/Product/{product['id']}", "gid://shopify/ProductVariant/1"]
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { id __typename
        ... on ProductVariant { sku inventoryItem { tracked
              inventoryLevels(first: 3) { nodes { quantities(names: ["available"]) {
                quantity } } } } }
        ... on Product { title } } }"""
    nodes = _data(shopify_standin.graphql(shop, token, query, {"ids": ids}))["nodes"]
    assert [n["__typename"] if n else None for n in nodes] == [
        "ProductVariant", "ProductVariant", "Product", None]
    assert nodes[0]["inventoryItem"]["inventoryLevels"]["nodes"][0]["quantities"] == [
        {"quantity": 4}]
    assert nodes[2]["title"] == "Field Jacket"


def test_counts_locations_and_shop(shopify_standin: StandinHandle, shop: str,
                                   token: str) -> None:
    shopify_standin.admin.add_location(shop, "Outlet", fulfills_online_orders=False)
    shopify_standin.admin.add_location(shop, "Closed", is_active=False)
    query = """{ shop { name myshopifyDomain currencyCode email }
        productsCount { count precision } productVariantsCount { count precision }
        locations(first: 10) { nodes { name isActive fulfillsOnlineOrders } }
        all: locations(first: 10, includeInactive: true) { nodes { name } } }"""
    data = _data(shopify_standin.graphql(shop, token, query))
    assert data["shop"]["myshopifyDomain"] == shop and data["shop"]["currencyCode"] == "USD"
    assert data["productsCount"] == {"count": 1, "precision": "EXACT"}
    assert data["productVariantsCount"] == {"count": 2, "precision": "EXACT"}
    assert [(n["name"], n["fulfillsOnlineOrders"]) for n in data["locations"]["nodes"]] == [
        ("Main warehouse", True), ("Outlet", False)]
    assert len(data["all"]["nodes"]) == 3


def test_counts_stop_at_shopifys_default_limit(shopify_standin: StandinHandle, shop: str,
                                               token: str) -> None:
    shopify_standin.admin.bulk_generate(shop, products=10_001)
    query = "{ a: productsCount { count precision } b: productsCount(limit: null) { count } }"
    data = _data(shopify_standin.graphql(shop, token, query))
    assert data["a"] == {"count": 10_000, "precision": "AT_LEAST"}
    assert data["b"] == {"count": 10_002}


def test_search_query_filters_products(shopify_standin: StandinHandle, shop: str,
                                       token: str) -> None:
    shopify_standin.admin.add_product(shop, "Wool Beanie", notify=False, status="DRAFT")
    query = """query($q: String) { products(first: 10, query: $q) { nodes { title } } }"""

    def titles(search: str) -> list[str]:
        data = _data(shopify_standin.graphql(shop, token, query, {"q": search}))
        return [n["title"] for n in data["products"]["nodes"]]

    assert titles("status:draft") == ["Wool Beanie"]
    assert titles("sku:FJ-M") == ["Field Jacket"]
    assert titles("beanie") == ["Wool Beanie"]


def test_a_schema_field_the_stand_in_does_not_model_says_so(shopify_standin: StandinHandle,
                                                            shop: str, token: str) -> None:
    body = shopify_standin.graphql(shop, token, "{ shop { alerts { action { url } } } }").json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_IMPLEMENTED_IN_STANDIN"
