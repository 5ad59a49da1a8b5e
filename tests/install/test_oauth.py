"""The authorization-code grant (a non-embedded install link), through the Shopify stand-in:
`/auth/install` (Shopify-signed query) → Shopify's authorize page → `/auth/callback` → installed
and into the embedded app. Every bad input is a 4xx naming its field."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.conf import settings
from django.test import Client

from integrations.shopify.signatures import oauth_query_hmac
from notifyme.catalog.sync_models import CatalogSync
from notifyme.shops.models import Shop
from tests.fixtures.shopify_standin import StandinHandle
from tests.install.conftest import SHOP

APP_URL = "http://127.0.0.1:9"  # the app URL the stand-in fixture allow-lists


def signed(params: dict[str, str], *, secret: str | None = None) -> dict[str, str]:
    """`params` plus a fresh timestamp (unless given) and Shopify's hex `hmac`."""
    query = {"timestamp": str(int(time.time())), **params}
    return {**query, "hmac": oauth_query_hmac(query, secret or settings.SHOPIFY_API_SECRET)}


@pytest.fixture(autouse=True)
def app_url(settings: Any) -> None:
    settings.SHOPIFY_APP_URL = APP_URL


def _error_field(response: Any) -> str:
    fields = response.json()["error"]["fields"]
    assert len(fields) == 1, fields
    return next(iter(fields))


def _authorize(client: Client, standin: StandinHandle) -> str:
    """/auth/install, then Shopify's authorize page; the callback URL Shopify redirects to."""
    start = client.get("/auth/install", signed({"shop": SHOP}))
    assert start.status_code == 302
    location = urlsplit(start["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{standin.url}/{SHOP}/admin/oauth/authorize")
    query = parse_qs(location.query)
    assert query["client_id"] == [settings.SHOPIFY_API_KEY]
    assert query["redirect_uri"] == [f"{APP_URL}/auth/callback"]
    assert set(query["scope"][0].split(",")) == {"read_products", "read_inventory",
                                                 "read_locations", "read_orders"}
    cookie = start.cookies["notifyme_oauth_state"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/auth/"
    assert cookie.value.startswith(f"{SHOP}|{query['state'][0]}:")  # bound to the shop, signed
    approved = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert approved.status_code == 302
    callback = urlsplit(approved.headers["Location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == f"{APP_URL}/auth/callback"
    return f"{callback.path}?{callback.query}"


@pytest.mark.django_db
def test_install_link_through_shopify_installs_and_opens_the_embedded_app(
        client: Client, shopify_standin: StandinHandle, standin_shop: str) -> None:
    callback = _authorize(client, shopify_standin)
    done = client.get(callback)
    assert done.status_code == 302, done.content
    assert done["Location"] == (
        f"https://admin.shopify.com/store/linen-co/apps/{settings.SHOPIFY_API_KEY}")
    shop = Shop.objects.get(domain=SHOP)
    assert shop.state == Shop.State.INSTALLED and shop.get_refresh_token()
    assert shop.name == "Linen & Co" and shop.refresh_token_expires_at is not None
    assert shopify_standin.admin.tokens(SHOP)["code_grants"] == 1
    assert CatalogSync.objects.get(shop=shop).reason == CatalogSync.Reason.INSTALL
    # The state was good once: the same callback again is refused (and exchanges nothing).
    replay = client.get(callback)
    assert replay.status_code == 400 and _error_field(replay) == "state"
    assert shopify_standin.admin.tokens(SHOP)["code_grants"] == 1


@pytest.mark.django_db
def test_state_must_match_the_cookie(
        client: Client, shopify_standin: StandinHandle, standin_shop: str) -> None:
    callback = _authorize(client, shopify_standin)
    path, _, query = callback.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items() if k != "hmac"}
    wrong = client.get(path, signed({**params, "state": "not-the-nonce"}))
    assert wrong.status_code == 400 and _error_field(wrong) == "state"
    missing = client.get(path, signed({k: v for k, v in params.items() if k != "state"}))
    assert missing.status_code == 400 and _error_field(missing) == "state"
    no_cookie = Client().get(callback)
    assert no_cookie.status_code == 400 and _error_field(no_cookie) == "state"
    forged = Client()
    forged.cookies["notifyme_oauth_state"] = f"{SHOP}|{params['state']}"  # unsigned
    assert _error_field(forged.get(callback)) == "state"
    assert not Shop.objects.filter(domain=SHOP).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/auth/install", "/auth/callback"])
def test_tampered_stale_or_foreign_queries_are_refused_naming_the_field(
        client: Client, path: str) -> None:
    good = signed({"shop": SHOP, "code": "abc", "state": "s"})
    tampered = {**good, "shop": "other-shop.myshopify.com"}
    cases = {
        "hmac": {**good, "hmac": good["hmac"][:-1] + ("0" if good["hmac"][-1] != "0" else "1")},
        "timestamp": signed({"shop": SHOP, "timestamp": str(int(time.time()) - 3600)}),
        "shop": signed({"shop": "evil.myshopify.com.attacker.io"}),
    }
    for field, params in cases.items():
        response = client.get(path, params)
        assert 400 <= response.status_code < 500, (field, response.status_code)
        assert _error_field(response) == field, field
    assert _error_field(client.get(path, tampered)) == "hmac"
    wrong_secret = signed({"shop": SHOP}, secret="another-apps-secret-that-is-32-bytes!")
    assert _error_field(client.get(path, wrong_secret)) == "hmac"
    assert _error_field(client.get(path, {"shop": SHOP})) == "hmac"
    assert _error_field(client.get(path + "?" + urlencode(
        [("shop", SHOP), ("shop", "other-shop.myshopify.com")]))) == "shop"
    assert not Shop.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("host", [
    "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvb3RoZXItc2hvcA",  # admin.shopify.com/store/other-shop
    "ZXZpbC5leGFtcGxlLmNvbS9hcHBz",  # evil.example.com/apps
    "not base64!",
])
def test_the_callback_redirects_only_to_this_shops_admin(
        client: Client, shopify_standin: StandinHandle, standin_shop: str, host: str) -> None:
    callback = _authorize(client, shopify_standin)
    path, _, query = callback.partition("?")
    params = {k: v[0] for k, v in parse_qs(query).items() if k != "hmac"}
    response = client.get(path, signed({**params, "host": host}))
    assert response.status_code == 400 and _error_field(response) == "host"
    assert not Shop.objects.filter(domain=SHOP).exists()
