"""The demo storefront pages render the block exactly as the Liquid block would."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command
from django.test import Client

from notifyme.dev.theme_block import block_defaults, locale_strings

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> None:
    call_command("demo", stdout=io.StringIO())


def _block_config(html: str) -> dict:
    block = re.search(r'<div class="notifyme".*?</div>', html, re.DOTALL)
    assert block, "no notify-me block on the page"
    match = re.search(r'<script type="application/json">(.*?)</script>', block.group(0),
                      re.DOTALL)
    assert match
    return json.loads(match.group(1))


def test_index_links_storefront_admin_and_admin_frame(client: Client, demo: None) -> None:
    html = client.get("/dev/").content.decode()
    for href in ('href="/dev/storefront/"', 'href="/admin/"', 'href="/dev/admin/"'):
        assert href in html


def test_storefront_lists_the_demo_products(client: Client, demo: None) -> None:
    response = client.get("/dev/storefront/")
    assert response.status_code == 200
    html = response.content.decode()
    for title in ("Linen Camp Shirt", "Merino Crew Socks", "Waxed Canvas Tote"):
        assert title in html
    assert 'href="/dev/storefront/products/linen-camp-shirt"' in html


def test_product_page_carries_the_blocks_variant_map_and_settings(client: Client,
                                                                 demo: None) -> None:
    response = client.get("/dev/storefront/products/merino-crew-socks")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<form[^>]*action="/dev/storefront/cart/add"', html)
    assert html.count('type="radio" name="id"') == 3
    assert 'data-proxy-path="/dev/apps/notifyme"' in html
    assert f'data-consent-version="{block_defaults()["consent_text_version"]}"' in html
    assert 'data-show-phone="true"' in html
    assert "/static/notifyme-theme/notify-me.js" in html
    assert "/static/notifyme-theme/notify-me.css" in html
    config = _block_config(html)
    assert config["selected"] == 45_120_000_000_021  # first available
    by_id = {v["id"]: v for v in config["variants"]}
    assert by_id[45_120_000_000_022] == {
        "id": 45_120_000_000_022, "title": "Oat", "available": False,
        "inventory_management": "shopify", "inventory_policy": "deny"}
    assert by_id[45_120_000_000_023]["inventory_management"] is None
    assert by_id[45_120_000_000_023]["available"] is True
    assert config["strings"]["button"] == "Notify me when available"
    assert config["strings"]["consent"] == block_defaults()["consent_text"]
    assert config["strings"]["email"] == locale_strings()["email"]


def test_variant_in_the_url_is_selected(client: Client, demo: None) -> None:
    html = client.get("/dev/storefront/products/linen-camp-shirt?variant=45120000000014")
    config = _block_config(html.content.decode())
    assert config["selected"] == 45_120_000_000_014
    assert re.search(r'value="45120000000014" checked', html.content.decode())


def test_unknown_product_is_404_and_missing_demo_says_what_to_run(client: Client) -> None:
    missing = client.get("/dev/storefront/")
    assert missing.status_code == 404
    assert b"manage.py demo" in missing.content
    call_command("demo", stdout=io.StringIO())
    assert client.get("/dev/storefront/products/nope").status_code == 404


def test_cart_add_stub_goes_back_to_the_product(client: Client, demo: None) -> None:
    response = client.post("/dev/storefront/cart/add", {"id": "45120000000011"})
    assert response.status_code == 302
    assert response["Location"] == (
        "/dev/storefront/products/linen-camp-shirt?variant=45120000000011&added=1")
    sold_out = client.post("/dev/storefront/cart/add", {"id": "45120000000012"})
    assert sold_out["Location"] == "/dev/storefront/"
