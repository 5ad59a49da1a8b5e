"""The demo storefront pages: the real Liquid block rendered from the mirror, in each market."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command
from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.dev.theme_block import Market, block_defaults, block_render, locale_strings

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> None:
    call_command("demo", stdout=io.StringIO())


def _block_config(html: str) -> dict:
    block = re.search(r'<div\s+class="notifyme".*?</div>', html, re.DOTALL)
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
        "inventory_management": "shopify", "inventory_policy": "deny", "price": "$18.00"}
    assert by_id[45_120_000_000_023]["inventory_management"] is None
    assert by_id[45_120_000_000_023]["available"] is True
    assert config["locale"] == "en" and config["country"] == "US"
    assert config["strings"]["button"] == "Notify me when available"
    assert config["strings"]["consent"] == locale_strings()["consent"]
    assert config["strings"]["sms_consent"] == locale_strings()["sms_consent"]
    assert config["strings"]["email"] == locale_strings()["email"]
    assert '<html lang="en">' in html


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


@pytest.mark.parametrize(("locale", "button", "email"), [
    ("fr", "M'avertir quand disponible", "E-mail"),
    ("de", "Benachrichtigen, wenn verfügbar", "E-Mail"),
    ("es", "Avisarme cuando esté disponible", "Correo electrónico"),
])
def test_other_markets_get_their_language_currency_and_locale_prefixed_proxy(
    client: Client, demo: None, locale: str, button: str, email: str
) -> None:
    response = client.get(f"/dev/{locale}/storefront/products/linen-camp-shirt")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{locale}">' in html
    # routes.root_url ("/dev/<locale>" here, "/<locale>" on Shopify) + the app proxy path.
    assert f'data-proxy-path="/dev/{locale}/apps/notifyme"' in html
    config = _block_config(html)
    assert config["locale"] == locale and config["country"] == locale.upper()
    strings = locale_strings(locale)
    assert config["strings"]["button"] == button == strings["button"]
    assert config["strings"]["email"] == email
    assert config["strings"]["sms_consent"] == strings["sms_consent"]
    # $68.00 at the demo's fixed 0.92 rate, in the money format "{{amount_with_comma_separator}} €".
    assert {v["price"] for v in config["variants"]} == {"62,56 €"}
    assert 'id="price">62,56 €<' in html


def test_unknown_market_is_404(client: Client, demo: None) -> None:
    assert client.get("/dev/it/storefront/products/linen-camp-shirt").status_code == 404


def _render(**kwargs) -> dict:
    variants = list(Variant.objects.filter(product__handle="linen-camp-shirt")
                    .select_related("product__shop").order_by("shopify_id"))
    html = block_render(variants[0].product, variants, variants[1], **kwargs)
    return {"html": str(html), "config": _block_config(str(html))}


def test_merchant_overrides_win_in_every_language_and_blank_means_the_translation(
    demo: None,
) -> None:
    overrides = {"button_label": "Tell me first", "heading": "  ", "intro": "",
                 "consent_text": "Yes, the newsletter too."}
    for locale in ("en", "fr"):
        strings = _render(locale=locale, overrides=overrides)["config"]["strings"]
        assert strings["button"] == "Tell me first"
        assert strings["consent"] == "Yes, the newsletter too."
        assert strings["heading"] == locale_strings(locale)["heading"]  # spaces only: blank
        assert strings["intro"] == locale_strings(locale)["intro"]
        assert strings["sms_consent"] == locale_strings(locale)["sms_consent"]

    off = _render(locale="fr", overrides={"ask_marketing_consent": False,
                                          "consent_text": "ignored", "show_phone": False})
    assert off["config"]["strings"]["consent"] == ""
    assert off["config"]["strings"]["sms_consent"] == ""  # no phone field: no SMS consent
    assert 'data-show-phone="false"' in off["html"]
    no_sms = _render(overrides={"ask_sms_consent": False})["config"]["strings"]
    assert no_sms["sms_consent"] == "" and no_sms["consent"] == locale_strings()["consent"]
    assert block_defaults()["button_label"] is None


@pytest.mark.parametrize(("root_url", "proxy_path", "expected"), [
    ("/", "/apps/notifyme", "/apps/notifyme"),
    ("/fr", "/apps/notifyme", "/fr/apps/notifyme"),
    ("/en-ca", "apps/back-in-stock", "/en-ca/apps/back-in-stock"),
    ("/", None, "/apps/notifyme"),
])
def test_proxy_url_is_the_markets_root_plus_the_proxy_path(
    demo: None, root_url: str, proxy_path: str | None, expected: str
) -> None:
    market = Market("fr", root_url, "CA", "CAD", "${{amount}} CAD", 1)
    rendered = _render(market=market, overrides={"proxy_path": proxy_path})
    assert f'data-proxy-path="{expected}"' in rendered["html"]
    assert rendered["config"]["variants"][0]["price"] == "$68.00 CAD"


def test_product_text_cannot_end_the_script(demo: None) -> None:
    Variant.objects.filter(shopify_id=45_120_000_000_011).update(title="</script><b>x")
    rendered = _render()
    assert "</script><b>" not in rendered["html"]
    assert rendered["config"]["variants"][0]["title"] == "</script><b>x"
