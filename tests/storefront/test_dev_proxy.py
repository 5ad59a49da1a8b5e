"""The app-proxy stand-in signs like Shopify, and the real /proxy/ views accept what it sends."""

from __future__ import annotations

import importlib
import io
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import Resolver404, clear_url_caches, resolve

from notifyme.dev.proxy import app_proxy, signed_query
from notifyme.shops.signing import app_proxy_signature
from notifyme.subscriptions.models import Subscription

SOLD_OUT = 45_120_000_000_012
IN_STOCK = 45_120_000_000_011


def test_signature_matches_shopifys_published_vector() -> None:
    query = signed_query([("extra", "1"), ("extra", "2")], shop="shop-name.myshopify.com",
                         secret="hush", path_prefix="/apps/awesome_reviews", customer_id="1",
                         timestamp=1317327555)
    params = parse_qs(query, keep_blank_values=True)
    assert params["signature"] == [
        "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"]
    anonymous = parse_qs(signed_query(
        [("extra", "1"), ("extra", "2")], shop="shop-name.myshopify.com", secret="hush",
        path_prefix="/apps/awesome_reviews", timestamp=1317327555), keep_blank_values=True)
    assert anonymous["logged_in_customer_id"] == [""]
    assert anonymous["signature"] == [
        "e072b6d7e6622d85912a5214b860d3100dc1e73d9bc29f43796ac8c9ff8093cb"]


def test_shopper_cannot_supply_the_params_only_shopify_sets() -> None:
    query = signed_query([("shop", "evil.myshopify.com"), ("signature", "f" * 64),
                          ("timestamp", "1"), ("q", "ok")],
                         shop="demo-shop.myshopify.com", secret="s3cret")
    params = parse_qs(query, keep_blank_values=True)
    assert params["shop"] == ["demo-shop.myshopify.com"]
    assert params["q"] == ["ok"]
    assert abs(int(params["timestamp"][0]) - time.time()) < 5
    signature = params.pop("signature")
    assert signature == [app_proxy_signature(params, "s3cret")]


@pytest.fixture
def demo_live(live_server, transactional_db) -> str:
    call_command("demo", stdout=io.StringIO())
    return live_server.url


def _post(base: str, body: dict, **headers: str) -> requests.Response:
    return requests.post(f"{base}/dev/apps/notifyme/subscribe", json=body, timeout=15,
                         headers={"Accept": "application/json", **headers})


def test_real_endpoint_accepts_the_stand_ins_signature(demo_live: str) -> None:
    response = _post(demo_live, {"variant_id": SOLD_OUT, "email": "Shopper@Example.com",
                                 "marketing_consent": True, "consent_text_version": "v1",
                                 "locale": "en"})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "subscribed"
    assert "set-cookie" not in {name.lower() for name in response.headers}
    subscription = Subscription.objects.get()
    assert subscription.variant.shopify_id == SOLD_OUT
    assert subscription.shop.domain == "demo-shop.myshopify.com"
    assert subscription.email.lower() == "shopper@example.com"
    assert subscription.marketing_consent and subscription.consent_text_version == "v1"

    again = _post(demo_live, {"variant_id": SOLD_OUT, "email": "Shopper@Example.com"})
    assert again.status_code == 200 and again.json()["status"] == "already_subscribed"


def test_form_encoded_bodies_are_forwarded_too(demo_live: str) -> None:
    response = requests.post(f"{demo_live}/dev/apps/notifyme/subscribe", timeout=15,
                             data={"variant_id": str(SOLD_OUT), "email": "form@example.com"})
    assert response.status_code == 201, response.text
    assert Subscription.objects.filter(email="form@example.com").exists()


def test_errors_are_relayed_with_status_and_body(demo_live: str) -> None:
    bad_email = _post(demo_live, {"variant_id": SOLD_OUT, "email": "shopper@example"})
    assert bad_email.status_code == 400
    assert bad_email.json()["error"]["fields"]["email"]
    in_stock = _post(demo_live, {"variant_id": IN_STOCK, "email": "a@example.com"})
    assert in_stock.status_code == 409
    assert not Subscription.objects.exists()


def test_rate_limit_is_relayed_with_retry_after(demo_live: str, settings) -> None:
    settings.SUBSCRIBE_RATE_PER_IP = 1
    settings.SUBSCRIBE_RATE_PER_IP_WINDOW_SECONDS = 10**9  # fixed window: never crossed mid-test
    first = _post(demo_live, {"variant_id": SOLD_OUT, "email": "one@example.com"})
    assert first.status_code == 201
    second = _post(demo_live, {"variant_id": SOLD_OUT, "email": "two@example.com"})
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) > 0
    assert second.json()["error"]["code"] == "rate_limited"


def test_without_the_stand_in_an_unsigned_request_is_refused(demo_live: str) -> None:
    response = requests.post(f"{demo_live}/proxy/subscribe", timeout=15,
                             json={"variant_id": SOLD_OUT, "email": "x@example.com"})
    assert response.status_code in (401, 403)
    assert not Subscription.objects.exists()


def test_the_stand_in_signs_with_the_configured_secret(demo_live: str, settings) -> None:
    settings.SHOPIFY_API_SECRET = "rotated-secret-" + "x" * 32
    response = _post(demo_live, {"variant_id": SOLD_OUT, "email": "rot@example.com"})
    assert response.status_code == 201, response.text


class _Upstream:
    status_code = 429
    content = b'{"error": {"code": "rate_limited", "message": "Slow down."}}'
    headers = {"Content-Type": "application/json", "Retry-After": "42",
               "Set-Cookie": "sessionid=x", "Server": "gunicorn"}


def test_forwards_like_shopify_and_relays_only_safe_headers(monkeypatch, settings) -> None:
    """What goes out on the wire: signed query, shopper IP, method, body and content type."""
    calls: list[dict] = []

    def fake_request(method: str, url: str, **kwargs: object) -> _Upstream:
        calls.append({"method": method, "url": url, **kwargs})
        return _Upstream()

    monkeypatch.setattr("notifyme.dev.proxy.requests.request", fake_request)
    body = b'{"variant_id": 1, "email": "a@example.com"}'
    request = RequestFactory().post(
        "/dev/apps/notifyme/subscribe?utm=x&shop=evil.myshopify.com", data=body,
        content_type="application/json", REMOTE_ADDR="203.0.113.9",
        HTTP_COOKIE="sessionid=secret", HTTP_ACCEPT="application/json")
    response = app_proxy(request, "subscribe")

    (call,) = calls
    assert call["method"] == "POST" and call["data"] == body
    assert call["headers"]["Content-Type"] == "application/json"
    assert call["headers"]["X-Forwarded-For"] == "203.0.113.9"
    assert "Cookie" not in call["headers"]
    url = urlsplit(call["url"])
    assert url.path == "/proxy/subscribe"
    params = parse_qs(url.query, keep_blank_values=True)
    assert params["shop"] == ["demo-shop.myshopify.com"]
    assert params["path_prefix"] == ["/apps/notifyme"]
    assert params["logged_in_customer_id"] == [""]
    assert params["utm"] == ["x"]
    signature = params.pop("signature")
    assert signature == [app_proxy_signature(params, settings.SHOPIFY_API_SECRET)]

    assert response.status_code == 429
    assert response["Retry-After"] == "42"
    assert response.content == _Upstream.content
    assert not response.has_header("Set-Cookie") and not response.has_header("Server")


def test_dev_pages_are_not_mounted_without_dev_tools(settings) -> None:
    import notifyme.urls

    original = settings.NOTIFYME_DEV_TOOLS
    try:
        settings.NOTIFYME_DEV_TOOLS = False
        clear_url_caches()
        importlib.reload(notifyme.urls)
        with pytest.raises(Resolver404):
            resolve("/dev/apps/notifyme/subscribe")
        with pytest.raises(Resolver404):
            resolve("/dev/storefront/")
    finally:
        settings.NOTIFYME_DEV_TOOLS = original
        importlib.reload(notifyme.urls)
        clear_url_caches()
