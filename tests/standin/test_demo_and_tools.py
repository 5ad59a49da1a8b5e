"""The demo seed agrees with `manage.py demo`; the page, the stock command and manage.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

from notifyme.dev.demo import DEMO_PRODUCTS, DEMO_SHOP_DOMAIN, DEMO_SHOP_NAME, _sku
from sandboxes.shopify import demo as standin_demo
from tests.fixtures.shopify_standin import StandinHandle
from tests.standin.conftest import Sink

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_seed_matches_manage_py_demo() -> None:
    assert standin_demo.DEMO_SHOP_DOMAIN == DEMO_SHOP_DOMAIN
    assert standin_demo.DEMO_SHOP_NAME == DEMO_SHOP_NAME
    app_side = [(p.shopify_id, p.title, p.handle, f"{p.price:.2f}", p.option_name,
                 tuple((v.shopify_id, v.title, v.stock, v.tracked, v.policy.upper())
                       for v in p.variants)) for p in DEMO_PRODUCTS]
    assert app_side == [tuple(row) for row in standin_demo.DEMO_CATALOG]
    for product in DEMO_PRODUCTS:
        for variant in product.variants:
            assert standin_demo.demo_sku(product.title, variant.title) == _sku(product, variant)


def test_the_page_escapes_and_its_form_changes_stock(shopify_standin: StandinHandle, shop: str,
                                                     sink: Sink) -> None:
    shopify_standin.admin.add_product(shop, "<script>alert(1)</script>", notify=False,
                                      variants=[{"title": "<b>x</b>", "sku": "X&1"}])
    page = requests.get(f"{shopify_standin.url}/_shopify/", timeout=10)
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "X&amp;1" in page.text
    dump = shopify_standin.admin.shop(shop)
    variant = dump["products"][0]["variants"][1]
    location = dump["locations"][0]["id"]
    answer = requests.post(f"{shopify_standin.url}/_shopify/page/stock", data={
        "shop": shop, "inventory_item_id": variant["inventory_item_id"],
        "location_id": location, "available": "7"}, allow_redirects=False, timeout=10)
    assert answer.status_code == 303
    assert shopify_standin.admin.shop(shop)["products"][0]["variants"][1]["levels"] == {
        str(location): 7}
    assert shopify_standin.admin.wait_webhooks()
    assert sink.topics() == ["inventory_levels/update"]
    bad = requests.post(f"{shopify_standin.url}/_shopify/page/stock",
                        data={"shop": shop, "available": "x"}, timeout=10)
    assert bad.status_code == 400


def test_the_stock_command_sets_a_variant_by_sku(shopify_standin: StandinHandle, shop: str,
                                                 sink: Sink) -> None:
    result = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "sandboxes.shopify", "stock", "--url", shopify_standin.url,
         shop, "FJ-M", "5"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False)
    assert result.returncode == 0, result.stderr
    assert "now 5" in result.stdout
    assert shopify_standin.admin.wait_webhooks()
    assert sink.topics() == ["inventory_levels/update"]
    unknown = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "sandboxes.shopify", "stock", "--url", shopify_standin.url,
         shop, "NO-SUCH-SKU", "5"], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False)
    assert unknown.returncode == 1 and "NO-SUCH-SKU" in unknown.stderr


def test_manage_py_has_the_command_in_development() -> None:
    env = {**os.environ, "DEBUG": "1"}
    result = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "shopify_standin", "--help"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "--demo" in result.stdout and "--access-ttl" in result.stdout


def test_control_api_errors_name_the_field(shopify_standin: StandinHandle, shop: str) -> None:
    bad_price = requests.post(f"{shopify_standin.url}/_shopify/shops/{shop}/products",
                              json={"title": "X", "variants": [{"price": "abc"}]}, timeout=10)
    assert bad_price.status_code == 400 and bad_price.json()["field"] == "price"
    bad_level = requests.post(f"{shopify_standin.url}/_shopify/shops/{shop}/stock",
                              json={"inventory_item_id": 1, "available": 1}, timeout=10)
    assert bad_level.status_code == 400 and bad_level.json()["field"] == "inventory_item_id"
    not_json = requests.post(f"{shopify_standin.url}/_shopify/shops", data=b"{",
                             timeout=10)
    assert not_json.status_code == 400
    unknown = requests.get(f"{shopify_standin.url}/_shopify/shops/nobody.myshopify.com",
                           timeout=10)
    assert unknown.status_code == 404


def test_the_seeded_demo_shop_serves_the_demo_catalog(shopify_standin: StandinHandle) -> None:
    summary = shopify_standin.admin.seed_demo()
    assert summary["domain"] == DEMO_SHOP_DOMAIN
    assert [loc["fulfills_online_orders"] for loc in summary["locations"]] == [True, False]
    token = shopify_standin.access_token(DEMO_SHOP_DOMAIN)
    data = shopify_standin.graphql(DEMO_SHOP_DOMAIN, token, """{ products(first: 10) {
        nodes { legacyResourceId title variants(first: 10) { nodes {
            legacyResourceId title sku inventoryQuantity inventoryPolicy
            inventoryItem { tracked } } } } } }""").json()["data"]
    products = data["products"]["nodes"]
    assert [int(p["legacyResourceId"]) for p in products] == [p.shopify_id for p in DEMO_PRODUCTS]
    for seeded, served in zip(DEMO_PRODUCTS, products, strict=True):
        assert served["title"] == seeded.title
        for seed_variant, variant in zip(seeded.variants, served["variants"]["nodes"],
                                         strict=True):
            assert int(variant["legacyResourceId"]) == seed_variant.shopify_id
            assert variant["sku"] == _sku(seeded, seed_variant)
            assert variant["inventoryQuantity"] == seed_variant.stock
            assert variant["inventoryItem"]["tracked"] == seed_variant.tracked
