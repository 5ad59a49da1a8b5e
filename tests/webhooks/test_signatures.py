"""`POST /webhooks/shopify` checks Shopify's signature over the exact bytes before anything
else: Shopify's published vector, tampering, wrong and rotated secrets."""

from __future__ import annotations

import logging

import pytest
from django.test import Client, override_settings

from integrations.shopify.signatures import webhook_signature, webhook_signature_valid
from notifyme.webhooks.models import WebhookEvent
from tests.fixtures.shopify import signed_webhook

from .conftest import SHOP, URL, deliver

# Shopify's published example (platform notes §4): secret "hush".
VECTOR_BODY = (b'{"inventory_item_id":808950810,"location_id":905684977,"available":6,'
               b'"updated_at":"2018-05-07T15:51:26-04:00"}')
VECTOR_HMAC = "UXrcL52UpzZjpGkjZmC1N4eeY+z3xrY9tkuW7z1ohmM="
VECTOR_HMAC_TRAILING_SPACE = "6sAYfzXzPH/oy/g5AWuKc19EGOprkypjW08VC/CJ6a0="

pytestmark = pytest.mark.django_db


def test_published_vector() -> None:
    assert webhook_signature(VECTOR_BODY, "hush") == VECTOR_HMAC
    assert webhook_signature(VECTOR_BODY + b" ", "hush") == VECTOR_HMAC_TRAILING_SPACE


@override_settings(SHOPIFY_API_SECRET="hush", SHOPIFY_API_SECRET_OLD="")
def test_published_vector_is_accepted_by_the_endpoint(client: Client, shop: object) -> None:
    assert webhook_signature_valid(VECTOR_BODY, VECTOR_HMAC)
    assert not webhook_signature_valid(VECTOR_BODY + b" ", VECTOR_HMAC)
    _, headers = signed_webhook("app/uninstalled", None, shop_domain=SHOP, raw=VECTOR_BODY)
    headers["HTTP_X_SHOPIFY_HMAC_SHA256"] = VECTOR_HMAC  # Shopify's own value, not ours
    response = client.post(URL, VECTOR_BODY, content_type="application/json", **headers)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.payload["inventory_item_id"] == 808950810
    # Spaces matter: the same header over the body with one more byte is refused.
    headers["HTTP_X_SHOPIFY_WEBHOOK_ID"] = "another"
    response = client.post(URL, VECTOR_BODY + b" ", content_type="application/json", **headers)
    assert response.status_code == 401


def test_one_byte_tampered_is_refused_and_nothing_stored(client: Client, shop: object,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    body, headers = signed_webhook("app/uninstalled", {"id": 1, "note": "secret-body-text"},
                                   shop_domain=SHOP)
    tampered = body.replace(b"1", b"2", 1)
    with caplog.at_level(logging.WARNING, logger="notifyme.webhooks"):
        response = client.post(URL, tampered, content_type="application/json", **headers)
    assert response.status_code == 401
    assert response.json()["error"]["fields"] == {"X-Shopify-Hmac-Sha256": ["does not match"]}
    assert WebhookEvent.objects.count() == 0
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1
    assert "secret-body-text" not in caplog.text
    assert headers["HTTP_X_SHOPIFY_HMAC_SHA256"] not in caplog.text


@pytest.mark.parametrize("signature", [None, "", "not-base64!", "AAAA"])
def test_missing_or_malformed_signature(client: Client, shop: object,
                                        signature: str | None) -> None:
    body, headers = signed_webhook("app/uninstalled", {"id": 1}, shop_domain=SHOP)
    if signature is None:
        del headers["HTTP_X_SHOPIFY_HMAC_SHA256"]
    else:
        headers["HTTP_X_SHOPIFY_HMAC_SHA256"] = signature
    response = client.post(URL, body, content_type="application/json", **headers)
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_wrong_secret(client: Client, shop: object) -> None:
    response = deliver(client, "app/uninstalled", secret="someone-elses-secret")
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0


@override_settings(SHOPIFY_API_SECRET="the-new-secret", SHOPIFY_API_SECRET_OLD="the-old-secret")
def test_previous_secret_is_accepted_during_a_rotation(client: Client, shop: object) -> None:
    assert deliver(client, "app/uninstalled", secret="the-new-secret").status_code == 200
    assert deliver(client, "app/uninstalled", secret="the-old-secret").status_code == 200
    assert deliver(client, "app/uninstalled", secret="neither-of-them").status_code == 401
    assert WebhookEvent.objects.count() == 2


@override_settings(SHOPIFY_API_SECRET="the-new-secret", SHOPIFY_API_SECRET_OLD="")
def test_after_the_rotation_the_old_secret_is_refused(client: Client, shop: object) -> None:
    assert deliver(client, "app/uninstalled", secret="the-old-secret").status_code == 401
