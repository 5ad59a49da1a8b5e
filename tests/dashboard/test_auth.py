"""Embedded auth: App Bridge ID tokens on the document and on the JSON API (HS256 only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from django.conf import settings
from django.test import Client

from notifyme.shops.auth import RETRY_HEADER, InvalidIdToken, id_token_verify
from notifyme.shops.models import Shop
from notifyme.shops.services import shop_uninstall
from tests.factories import shop_make
from tests.fixtures.shopify import id_token

pytestmark = pytest.mark.django_db

SHOP = "demo-shop.myshopify.com"
WRONG_SECRET = "not-the-app-secret-but-also-32-bytes-long!!"


def bad_tokens() -> dict[str, Callable[[], str]]:
    now = int(time.time())
    claims = lambda **o: {  # noqa: E731
        "iss": f"https://{SHOP}/admin", "dest": f"https://{SHOP}",
        "aud": settings.SHOPIFY_API_KEY, "sub": "42", "exp": now + 60, "nbf": now - 1,
        "iat": now - 1, "jti": "j", "sid": "s", **o,
    }
    return {
        "wrong_audience": lambda: id_token(SHOP, aud="someone-elses-app"),
        "wrong_secret": lambda: id_token(SHOP, secret=WRONG_SECRET),
        "expired": lambda: id_token(SHOP, exp=now - 11, nbf=now - 80, iat=now - 80),
        "not_yet_valid": lambda: id_token(SHOP, nbf=now + 30, iat=now + 30),
        "iss_dest_mismatch": lambda: id_token(SHOP, iss="https://other-shop.myshopify.com/admin"),
        "dest_not_myshopify": lambda: id_token(
            SHOP, iss="https://evil.example.com/admin", dest="https://evil.example.com"),
        "http_dest": lambda: id_token(SHOP, iss=f"http://{SHOP}/admin", dest=f"http://{SHOP}"),
        "missing_exp": lambda: id_token(SHOP, exp=None),
        "missing_nbf": lambda: id_token(SHOP, nbf=None),
        "missing_dest": lambda: id_token(SHOP, dest=None),
        "missing_iss": lambda: id_token(SHOP, iss=None),
        "missing_aud": lambda: id_token(SHOP, aud=None),
        "alg_none": lambda: jwt.encode(claims(), key=None, algorithm="none"),
        "alg_hs512": lambda: jwt.encode(claims(), settings.SHOPIFY_API_SECRET, algorithm="HS512"),
        "garbage": lambda: "not.a.jwt",
        "empty": lambda: "",
    }


@pytest.fixture
def demo_shop(db: None) -> Shop:
    return shop_make(SHOP)


def test_valid_token_gives_the_shop(demo_shop: Shop) -> None:
    session = id_token_verify(id_token(SHOP))
    assert session.shop == demo_shop
    assert session.user_id == "42"


def test_within_leeway_is_accepted(demo_shop: Shop) -> None:
    now = int(time.time())
    assert id_token_verify(id_token(SHOP, exp=now - 5, nbf=now + 5)).shop == demo_shop


def test_old_secret_accepted_during_rotation(demo_shop: Shop, settings: Any) -> None:
    settings.SHOPIFY_API_SECRET_OLD = WRONG_SECRET
    assert id_token_verify(id_token(SHOP, secret=WRONG_SECRET)).shop == demo_shop


def test_uninstalled_or_unknown_shop_is_refused_by_id_token_verify(demo_shop: Shop) -> None:
    """`id_token_verify` never installs (the views install: tests/install/)."""
    shop_uninstall(shop=demo_shop)
    for token in (id_token(SHOP), id_token("nobody.myshopify.com")):
        with pytest.raises(InvalidIdToken) as refused:
            id_token_verify(token)
        assert refused.value.reason == "unknown_shop"


@pytest.mark.parametrize("case", sorted(bad_tokens()))
def test_bad_tokens_are_refused_everywhere(case: str, demo_shop: Shop, client: Client) -> None:
    token = bad_tokens()[case]()
    with pytest.raises(InvalidIdToken):
        id_token_verify(token)
    api = client.get("/app/api/klaviyo", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.status_code == 401
    assert api[RETRY_HEADER] == "1"
    assert api.json()["error"]["code"] == "invalid_session"
    document = client.get("/app/", {"id_token": token, "shop": SHOP, "embedded": "1"})
    assert document.status_code == 302
    assert document["Location"].startswith("/app/bounce?")


def test_shop_param_mismatch_is_refused(demo_shop: Shop, client: Client) -> None:
    shop_make("other-shop.myshopify.com")
    response = client.get("/app/", {"id_token": id_token(SHOP),
                                     "shop": "other-shop.myshopify.com"})
    assert response.status_code == 302
    api = client.get("/app/api/klaviyo?shop=other-shop.myshopify.com",
                     HTTP_AUTHORIZATION=f"Bearer {id_token(SHOP)}")
    assert api.status_code == 401


def test_missing_or_non_bearer_authorization(demo_shop: Shop, client: Client) -> None:
    assert client.get("/app/api/klaviyo").status_code == 401
    response = client.get("/app/api/klaviyo", HTTP_AUTHORIZATION=f"Basic {id_token(SHOP)}")
    assert response.status_code == 401 and response[RETRY_HEADER] == "1"


def test_document_with_valid_token(demo_shop: Shop, client: Client) -> None:
    response = client.get("/app/", {"id_token": id_token(SHOP), "shop": SHOP, "embedded": "1",
                                     "host": "YWRtaW4"})
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert csp.startswith(f"frame-ancestors https://{SHOP} https://admin.shopify.com")
    assert "X-Frame-Options" not in response
    assert b'name="shopify-api-key"' in response.content
    assert b"app-bridge.js" in response.content
    assert b"Klaviyo is not connected" in response.content


def test_bounce_keeps_query_and_sets_reload(demo_shop: Shop, client: Client) -> None:
    response = client.get("/app/", {"shop": SHOP, "host": "abc", "embedded": "1"})
    assert response.status_code == 302
    location = urlparse(response["Location"])
    query = parse_qs(location.query)
    assert location.path == "/app/bounce"
    assert query["shop"] == [SHOP] and query["embedded"] == ["1"]
    reload_target = query["shopify-reload"][0]
    assert reload_target.startswith("/app/?") and "id_token" not in reload_target
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b"app-bridge.js" in page.content and b'content="notifyme-dev-client-id"' in page.content
    assert b"Klaviyo" not in page.content  # nothing about the shop on an unauthenticated page


def test_token_for_shop_a_never_touches_shop_b(
    demo_shop: Shop, client: Client, klaviyo_sandbox: Any
) -> None:
    from integrations.klaviyo.models import KlaviyoConnection
    from integrations.klaviyo.services import connection_connect

    other = shop_make("other-shop.myshopify.com")
    account = klaviyo_sandbox.admin.create_account(name="Other Shop Klaviyo")
    key = klaviyo_sandbox.admin.create_key(account["id"], "all")
    connection_connect(shop=other, private_key=key)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {id_token(SHOP)}"}
    status = client.get("/app/api/klaviyo", **headers).json()
    assert status["shop"] == SHOP and status["status"] == "disconnected"
    assert status["account"] is None
    # Disconnect with A's token acts on A only; B stays connected.
    client.post("/app/api/klaviyo/disconnect", **headers)
    client.post(f"/app/api/klaviyo/disconnect?shop={other.domain}", **headers)
    assert KlaviyoConnection.objects.get(shop=other).status == "connected"
    forged = client.get("/app/api/klaviyo", HTTP_AUTHORIZATION=f"Bearer {id_token(SHOP)}",
                        HTTP_X_SHOPIFY_SHOP_DOMAIN=other.domain)
    assert forged.json()["shop"] == SHOP
