"""Webhook signature failures, counted as support needs them: forged deliveries POSTed to the
real endpoint, then the board, `doctor` and /support/metrics read what was counted."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from django.test import Client
from django.utils.html import escape

from notifyme.shops.models import Shop
from notifyme.support import catalogue
from notifyme.webhooks import signature_failures
from tests.factories import shop_make
from tests.fixtures.shopify import signed_webhook
from tests.observe.test_metrics import SCRAPER_TOKEN, parse, value
from tests.support.test_board import _row_html
from tests.support.test_doctor import doctor

DOMAIN = "forged-shop.myshopify.com"
UNKNOWN = "nobody-here.myshopify.com"


WRONG_SECRET = "not-the-app-secret"  # a forger's guess


def _forge(claimed: str) -> int:
    body, headers = signed_webhook("inventory_levels/update", {"inventory_item_id": 1},
                                   shop_domain=claimed, secret=WRONG_SECRET)
    return Client().post("/webhooks/shopify", body, content_type="application/json",
                         **headers).status_code


@pytest.mark.django_db(transaction=True)  # doctor is another process
def test_forged_deliveries_count_under_a_known_shop_and_globally_only(
        staff: Client, clean_redis: redis.Redis, settings: Any) -> None:
    shop_make(DOMAIN)
    assert [_forge(DOMAIN), _forge(DOMAIN), _forge(UNKNOWN)] == [401, 401, 401]
    body, headers = signed_webhook("inventory_levels/update", {"inventory_item_id": 1},
                                   shop_domain=DOMAIN)
    headers.pop("HTTP_X_SHOPIFY_HMAC_SHA256")  # a missing signature is a failure too
    assert Client().post("/webhooks/shopify", body, content_type="application/json",
                         **headers).status_code == 401

    # Nothing was created for the unknown claimed domain: no shop row, no per-shop key.
    assert not Shop.objects.filter(domain=UNKNOWN).exists()
    keys = {k.decode() for k in clean_redis.keys(f"{signature_failures.PREFIX}:*")}
    assert len(keys) == 2 and not any(UNKNOWN in k for k in keys)
    assert all(0 < clean_redis.ttl(k) <= signature_failures.KEEP_HOURS * 3600 for k in keys)

    fix = catalogue.entry("webhook", "invalid_signature").fix
    page = staff.get("/support/").content.decode()
    row = _row_html(page, DOMAIN)
    assert "webhook/invalid_signature</code></a> 3 / 3" in row
    assert escape(fix) in row  # the last error's sentence
    banner = page[page.index('id="signature-failures"'):]
    assert "all claimed shops: 4 in 24 h, 4 in 7 days" in banner[:400]
    shop_page = staff.get(f"/support/shops/{DOMAIN}/").content.decode()
    assert "webhook/invalid_signature" in shop_page and escape(fix) in shop_page

    result = doctor(DOMAIN)
    assert "webhook/invalid_signature: 3 / 3" in result.stdout, result.stdout + result.stderr
    assert f"Fix: {fix}" in result.stdout

    settings.METRICS_TOKEN = SCRAPER_TOKEN
    scraped = Client(HTTP_AUTHORIZATION=f"Bearer {SCRAPER_TOKEN}").get("/support/metrics")
    samples = parse(scraped.content.decode())
    assert value(samples, "notifyme_webhook_signature_failures", window="24h") == 4
    assert value(samples, "notifyme_webhook_signature_failures", window="7d") == 4


@pytest.mark.django_db
def test_a_correctly_signed_delivery_is_not_counted(clean_redis: redis.Redis) -> None:
    shop_make(DOMAIN)
    body, headers = signed_webhook("inventory_levels/update", {"inventory_item_id": 1},
                                   shop_domain=DOMAIN)
    assert Client().post("/webhooks/shopify", body, content_type="application/json",
                         **headers).status_code == 200
    assert clean_redis.keys(f"{signature_failures.PREFIX}:*") == []
