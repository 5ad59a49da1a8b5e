"""The intake: headers named when missing, one row per webhook id, bad bodies and unknown
topics answered 200 and visible to support, oversized bodies refused, a nudge per burst."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from notifyme.shops.models import Shop
from notifyme.webhooks import intake
from notifyme.webhooks.models import WebhookEvent
from tests.fixtures.shopify import signed_webhook

from .conftest import SHOP, URL, deliver, states, webhook_jobs

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]


def test_valid_delivery_is_stored_and_nudged(client: Client, shop: Shop,
                                             django_capture_on_commit_callbacks: Capture) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, "app/uninstalled", {"id": 7, "domain": SHOP},
                           webhook_id="wh-1")
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.shop, event.shop_domain, event.topic, event.webhook_id, event.state) == (
        shop, SHOP, "app/uninstalled", "wh-1", "pending")
    assert event.payload == {"id": 7, "domain": SHOP}
    assert event.api_version == "2026-10" and event.event_id and event.triggered_at
    assert len(event.body_sha256) == 64 and event.body_bytes > 0
    assert len(webhook_jobs()) == 1


@pytest.mark.parametrize("header", ["X-Shopify-Topic", "X-Shopify-Shop-Domain",
                                    "X-Shopify-Webhook-Id"])
def test_each_missing_header_is_named(client: Client, shop: Shop, header: str) -> None:
    body, headers = signed_webhook("app/uninstalled", {"id": 1}, shop_domain=SHOP)
    del headers["HTTP_" + header.upper().replace("-", "_")]
    response = client.post(URL, body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [header]
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(("header", "value"), [
    ("X-Shopify-Shop-Domain", "evil.myshopify.com.attacker.io"),
    ("X-Shopify-Shop-Domain", "demo-shop.myshopify.com/../x"),
    ("X-Shopify-Shop-Domain", "attacker.io"),
    ("X-Shopify-Topic", "products update"),
    ("X-Shopify-Topic", "x" * 200),
    ("X-Shopify-Webhook-Id", "w" * 300),
    ("X-Shopify-API-Version", "v" * 40),
])
def test_unusable_headers_are_named(client: Client, shop: Shop, header: str, value: str) -> None:
    body, headers = signed_webhook("app/uninstalled", {"id": 1}, shop_domain=SHOP)
    headers["HTTP_" + header.upper().replace("-", "_")] = value
    response = client.post(URL, body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [header]
    assert WebhookEvent.objects.count() == 0


def test_shop_domain_is_matched_case_insensitively(client: Client, shop: Shop) -> None:
    assert deliver(client, "app/uninstalled", shop_domain="Demo-Shop.MyShopify.com") \
        .status_code == 200
    assert WebhookEvent.objects.get().shop == shop


def test_duplicate_webhook_id_is_stored_once(client: Client, shop: Shop) -> None:
    first = deliver(client, "app/uninstalled", {"id": 1}, webhook_id="same")
    again = deliver(client, "app/uninstalled", {"id": 2}, webhook_id="same")
    assert (first.status_code, again.status_code) == (200, 200)
    event = WebhookEvent.objects.get()
    assert event.payload == {"id": 1}  # the redelivery changed nothing


@pytest.mark.parametrize(("raw", "reason"), [
    (b"{not json", "the body is not JSON"),
    (b"[1, 2]", "not an object (a list)"),
    (b"\xff\xfe", "not UTF-8"),
    (b'{"title": "a\\u0000b"}', "NUL characters"),
    (b'{"title": "\\ud800"}', "lone surrogates"),
    (b"", "the body is not JSON"),
    # Python's json takes these; PostgreSQL's jsonb (which parses the stored body) does not.
    (b'{"price": NaN}', "NaN is not a JSON number"),
    (b'{"available": -Infinity}', "-Infinity is not a JSON number"),
])
def test_bad_body_with_a_good_signature_is_a_failed_event(
    client: Client, shop: Shop, raw: bytes, reason: str,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, "app/uninstalled", raw=raw)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.state == "failed" and event.payload is None
    assert reason in event.last_error
    assert event.processed_at is not None
    assert webhook_jobs() == []  # nothing to process


def test_unknown_topic_is_ignored_with_one_info_line(
    client: Client, shop: Shop, caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    with caplog.at_level(logging.INFO, logger="notifyme.webhooks"), \
            django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, "carts/update", {"id": 1, "email": "a@b.test"})
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.state, event.last_error) == ("ignored", "topic not handled by the app")
    assert event.payload is None  # no data the app does not use
    lines = [r for r in caplog.records if "not handled" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
    assert webhook_jobs() == []


def test_get_is_405(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@override_settings(WEBHOOK_MAX_BODY_BYTES=2048)
def test_oversized_body_is_413_and_nothing_stored(client: Client, shop: Shop) -> None:
    assert deliver(client, "app/uninstalled", {"pad": "x" * 1900}).status_code == 200
    assert deliver(client, "app/uninstalled", {"pad": "x" * 2100}).status_code == 413
    assert WebhookEvent.objects.count() == 1


def test_bodies_larger_than_the_storefront_limit_are_read(client: Client, shop: Shop) -> None:
    """A product payload is far above DATA_UPLOAD_MAX_MEMORY_SIZE (16 KB, storefront forms)."""
    payload = {"id": 1, "variants": [{"id": i, "title": "v" * 100} for i in range(500)]}
    assert deliver(client, "app/uninstalled", payload).status_code == 200
    assert len(WebhookEvent.objects.get().payload["variants"]) == 500


def test_unknown_shop_is_stored_without_a_shop(client: Client, db: None) -> None:
    response = deliver(client, "app/uninstalled", shop_domain="nobody.myshopify.com")
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.shop is None and event.shop_domain == "nobody.myshopify.com"


def test_a_burst_enqueues_one_job_per_shop(client: Client, shop: Shop, other_shop: Shop,
                                           django_capture_on_commit_callbacks: Capture) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(30):
            assert deliver(client, "app/uninstalled").status_code == 200
        assert deliver(client, "app/uninstalled",
                       shop_domain=other_shop.domain).status_code == 200
    assert states() == {"pending": 31}
    assert len(webhook_jobs()) == 2  # one per shop, not one per delivery


def test_a_delivery_is_stored_in_one_statement(client: Client, shop: Shop) -> None:
    """The shop is looked up inside the INSERT, which commits on its own: a burst pays one
    round trip to PostgreSQL per delivery (bench/webhook_burst.py)."""
    with CaptureQueriesContext(connection) as captured:
        assert deliver(client, "app/uninstalled", {"id": 7}, webhook_id="wh-1").status_code == 200
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["INSERT"]
    assert WebhookEvent.objects.get().shop == shop


def test_the_stored_payload_is_the_signed_body(client: Client, shop: Shop) -> None:
    """The body's own text goes into the JSON column: big integers, non-ASCII text and
    duplicate keys come out as a JSON parser reads them (the last duplicate wins)."""
    raw = '{"id": 12345678901234567890, "title": "Caf\u00e9 ☕", "n": 1, "n": 2}'.encode()
    assert deliver(client, "products/update", raw=raw).status_code == 200
    assert WebhookEvent.objects.get().payload == {
        "id": 12345678901234567890, "title": "Café ☕", "n": 2}


def test_the_insert_writes_every_column_of_the_model() -> None:
    """The intake's hand-written INSERT names every concrete column, so a column added to
    WebhookEvent without being added there fails here rather than on a NOT NULL in a burst."""
    model_columns = {f.column for f in WebhookEvent._meta.concrete_fields} - {"id"}
    assert {"shop_id", *intake._COLUMN_NAMES} == model_columns
