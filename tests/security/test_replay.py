"""Replays and re-splits the other suites do not already cover (the index of where every
forged, tampered, replayed and re-split case is tested is tests/security/README.md).

- A captured stock webhook replayed later under a fresh `X-Shopify-Webhook-Id` (the header is
  not covered by the HMAC, so an attacker who saw one delivery can resend it as "new"): the old
  level is stale against the newer one and starts no restock.
- A signature is for its exact bytes: the same JSON re-split (other whitespace), a trailing
  byte or an appended field under the captured signature is refused and nothing is stored.
- Install links for shops that are not exactly `<name>.myshopify.com`, even when signed.
- An ID token signed correctly but for another app, or carrying another shop's `dest` while
  the query names this shop.
"""

from __future__ import annotations

import pytest
from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop
from notifyme.webhooks import processing
from notifyme.webhooks.models import WebhookEvent
from tests.catalog.conftest import VARIANT_ID
from tests.catalog.rest_payloads import rest_level, rest_product
from tests.fixtures.shopify import id_token, signed_webhook
from tests.install.test_oauth import signed
from tests.restocks.conftest import add_subscribers
from tests.webhooks.conftest import SHOP

pytestmark = pytest.mark.django_db
URL = "/webhooks/shopify"


def _post(client: Client, body: bytes, headers: dict[str, str]) -> int:
    return client.post(URL, body, content_type="application/json", **headers).status_code


def test_a_replayed_stock_webhook_under_a_new_id_starts_no_restock(
        client: Client, shop: Shop) -> None:
    body, headers = signed_webhook("products/create", rest_product(), shop_domain=SHOP)
    assert _post(client, body, headers) == 200
    processing.process_shop(SHOP)
    variant = Variant.objects.get(shop=shop, shopify_id=VARIANT_ID)
    add_subscribers(shop, variant, 2)
    # Shopify: in stock at 07:00, sold out again at 07:05. Both processed: one restock.
    captured, captured_headers = signed_webhook(
        "inventory_levels/update", rest_level(5, updated_at="2026-12-01T07:00:00-05:00"),
        shop_domain=SHOP)
    assert _post(client, captured, captured_headers) == 200
    later, later_headers = signed_webhook(
        "inventory_levels/update", rest_level(0, updated_at="2026-12-01T07:05:00-05:00"),
        shop_domain=SHOP)
    assert _post(client, later, later_headers) == 200
    processing.process_shop(SHOP)
    restocks = Restock.objects.count()
    # The attacker resends the 07:00 delivery, byte for byte, as a "new" delivery.
    replay_headers = {**captured_headers, "HTTP_X_SHOPIFY_WEBHOOK_ID": "attacker-fresh-id",
                      "HTTP_X_SHOPIFY_EVENT_ID": "attacker-fresh-event"}
    assert _post(client, captured, replay_headers) == 200  # signed: accepted, then judged
    processing.process_shop(SHOP)
    assert Variant.objects.get(pk=variant.pk).available_quantity == 0
    assert Restock.objects.count() == restocks
    replayed = WebhookEvent.objects.get(webhook_id="attacker-fresh-id")
    assert replayed.state == "processed"


def test_a_signature_is_for_its_bytes_only(client: Client, shop: Shop) -> None:
    body, headers = signed_webhook("inventory_levels/update", rest_level(5), shop_domain=SHOP)
    # Re-split the JSON (same meaning, other bytes), or append a second object: refused.
    for forged in (body.replace(b",", b", "), body + b"\n", body[:-1] + b',"x":1}'):
        assert _post(client, forged, headers) == 401, forged
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("domain", [
    "evil.com", "myshopify.com", ".myshopify.com", "a.b.myshopify.com", "shop.myshopify.com.",
    "shop.myshopify.com:443", "shop.myshopify.com/admin", "shop.myshopify.co",
    "xn--80ak6aa92e.myshopify.com.evil.io", "shop.myshopify.com%00.evil.io", "-shop.myshopify.com",
])
def test_install_refuses_a_signed_link_for_a_shop_that_is_not_myshopify(
        client: Client, domain: str) -> None:
    for path in ("/auth/install", "/auth/callback"):
        response = client.get(path, signed({"shop": domain, "code": "c", "state": "s"}))
        assert response.status_code == 400, (path, domain, response.status_code)
        assert list(response.json()["error"]["fields"]) == ["shop"], (path, domain)
        assert "Location" not in response
    assert not Shop.objects.exists()


def test_an_id_token_names_one_shop_and_one_app(client: Client, shop: Shop,
                                                other_shop: Shop) -> None:
    cases = {
        "other app": id_token(SHOP, aud="another-apps-client-id"),
        "dest of B, iss of A": id_token(SHOP, dest=f"https://{other_shop.domain}"),
        "expired long ago": id_token(SHOP, exp=1, nbf=0, iat=0),
        "not valid for an hour": id_token(SHOP, nbf=2**31 - 1),
    }
    for name, token in cases.items():
        api = client.get("/app/api/klaviyo", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert api.status_code == 401, name
        page = client.get("/app/", {"id_token": token, "shop": SHOP})
        assert page.status_code == 302 and page["Location"].startswith("/app/bounce"), name
    # B's own valid token on A's document (shop=A in the query) is refused as well.
    page = client.get("/app/", {"id_token": id_token(other_shop.domain), "shop": SHOP})
    assert page.status_code == 302 and page["Location"].startswith("/app/bounce")
