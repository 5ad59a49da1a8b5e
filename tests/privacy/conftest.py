"""Privacy fixtures: a connected shop with one shopper everywhere the app keeps people, and the
scanners that prove a shopper is gone — every text column of every installed model (so a table
added later is covered without touching the test), every Redis key and value, the logs."""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.db.models.functions import Cast
from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.catalog.services import variant_update_stock
from notifyme.core.redis import get_redis
from notifyme.privacy.erasure import erasure_run
from notifyme.privacy.models import KlaviyoErasure
from notifyme.restocks.services import detection_of
from notifyme.shops.models import Shop
from notifyme.subscriptions import abuse
from notifyme.subscriptions.models import Subscription
from notifyme.webhooks.models import WebhookEvent
from notifyme.webhooks.processing import PERSONAL_TOPICS, process_shop
from tests.factories import Connected, klaviyo_connect, subscription_make
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import make_shop, make_variant, signed_webhook
from tests.restocks.conftest import drain as fanout_drain
from tests.sync.conftest import drain

EMAIL = "ada.lovelace@example.com"
EMAIL_TYPED = "Ada.Lovelace@Example.com"
PHONE = "+14155550101"
CUSTOMER_ID = 7390001
OTHER_EMAIL = "grace@example.com"
SHOPPER_PAYLOAD = {"id": CUSTOMER_ID, "email": EMAIL_TYPED, "phone": "+1 (415) 555-0101"}
TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def scan_database(*needles: str, ignore: tuple[models.Model, ...] = ()) -> list[str]:
    """`app.model.field` of every row whose text (or JSON as text) contains a needle; rows in
    `ignore` (another shop's shopper, who must stay) are skipped."""
    hits = []
    for model in apps.get_models():
        skipped = [row.pk for row in ignore if isinstance(row, model)]
        for field in model._meta.concrete_fields:
            if not isinstance(field, TEXT_FIELDS):
                continue
            rows = model._default_manager.exclude(pk__in=skipped)
            column = field.name
            if isinstance(field, models.JSONField):
                rows = rows.annotate(_as_text=Cast(field.name, models.TextField()))
                column = "_as_text"
            for needle in needles:
                if rows.filter(**{f"{column}__icontains": needle}).exists():
                    hits.append(f"{model._meta.label_lower}.{field.name} has {needle!r}")
    return hits


def _redis_values(client: Any, key: bytes) -> list[bytes]:
    kind = client.type(key).decode()
    if kind == "string":
        return [client.get(key) or b""]
    if kind == "hash":
        return [v for pair in client.hgetall(key).items() for v in pair]
    if kind == "list":
        return list(client.lrange(key, 0, -1))
    if kind == "set":
        return list(client.smembers(key))
    if kind == "zset":
        return list(client.zrange(key, 0, -1))
    return []


def scan_redis(*needles: str) -> list[str]:
    """Keys whose name or value (RQ's zlib-compressed job data included) has a needle."""
    client: Any = get_redis()
    hits = []
    for key in client.scan_iter(count=1000):
        blobs = [key, *_redis_values(client, key)]
        for blob in list(blobs):
            try:
                blobs.append(zlib.decompress(blob))
            except zlib.error:
                pass
        text = b"\n".join(blobs).lower()
        hits += [f"{key!r} has {n!r}" for n in needles if n.lower().encode() in text]
    return hits


def contact_keys(shop: Shop, *contacts: str) -> list[bytes]:
    """The Redis rate-limit keys of these contacts at this shop (named by their digest)."""
    client: Any = get_redis()
    found: list[bytes] = []
    for contact in contacts:
        digest = abuse.contact_digest(shop_id=shop.pk, contact=contact)
        found += list(client.scan_iter(match=f"{abuse.KEY_PREFIX}:contact:{shop.pk}:{digest}:*"))
    return found


@dataclass
class Store:
    shop: Shop
    variant: Variant
    scarf: Variant
    connected: Connected
    sandbox: SandboxHandle
    subs: list[Subscription]

    @property
    def account_id(self) -> str:
        return self.connected.account_id


def shopper_everywhere(sandbox: SandboxHandle, *, scopes: list[str] | str = "all",
                       domain: str = "demo-shop.myshopify.com") -> Store:
    """A connected shop where the shopper subscribed twice (email + phone with consent and
    their customer id; phone only), hit the rate limiter, was synced to Klaviyo and was sent
    a restock alert — plus another shopper who must stay."""
    sandbox.admin.set_rate_limits(enabled=False)
    shop = make_shop(domain)
    variant = make_variant(shop, shopify_id=4001, quantity=0)
    scarf = make_variant(shop, shopify_id=4002, product_id=9002, quantity=0)
    connected = klaviyo_connect(shop, sandbox, scopes=scopes)
    subs = [
        subscription_make(shop, variant, email=EMAIL, email_display=EMAIL_TYPED, phone=PHONE,
                          first_name="Ada", marketing_consent=True, consent_text_version="v1",
                          sms_consent=True, sms_consent_text_version="sms-v1",
                          shopify_customer_id=CUSTOMER_ID),
        subscription_make(shop, scarf, email="", phone=PHONE),
        subscription_make(shop, variant, email=OTHER_EMAIL, first_name="Grace"),
    ]
    abuse.subscribe_contact_check(shop_id=shop.pk, contacts=[EMAIL, PHONE])
    drain(shop.pk, lane="sync")
    restock = detection_of(variant_update_stock(variant=variant, quantity=5)).restock
    assert restock is not None
    fanout_drain(restock)
    return Store(shop, variant, scarf, connected, sandbox, subs)


@pytest.fixture
def store(db: None, klaviyo_sandbox: SandboxHandle) -> Store:
    return shopper_everywhere(klaviyo_sandbox)


def run_erasures(*, patience: float = 10.0) -> list[str]:
    """Run every pending Klaviyo erasure job in this process (what a worker does), waiting out
    our own rate limiter's "not yet" (a delayed nudge would come back then); the outcomes."""
    pending = KlaviyoErasure.objects.filter(state=KlaviyoErasure.State.PENDING)
    outcomes = []
    for pk in pending.values_list("id", flat=True):
        deadline = time.monotonic() + patience
        outcome = erasure_run(erasure_id=pk)
        waiting = outcome.startswith("rate limited")
        while waiting and time.monotonic() < deadline:
            time.sleep(0.3)
            outcome = erasure_run(erasure_id=pk)
            waiting = outcome.startswith("rate limited") or outcome == "not due"
        outcomes.append(outcome)
    return outcomes


def deliver(topic: str, payload: dict[str, Any], *, shop_domain: str,
            webhook_id: str | None = None) -> str:
    """Shopify posts a signed compliance webhook to `POST /webhooks/shopify` (200 at once) and
    a worker runs the shop's webhook job; the event's outcome line (what support sees)."""
    body, headers = signed_webhook(topic, {"shop_domain": shop_domain, **payload},
                                   shop_domain=shop_domain, webhook_id=webhook_id)
    response = Client().post("/webhooks/shopify", body, content_type="application/json",
                             **headers)
    assert response.status_code == 200, response.content
    process_shop(shop_domain)
    event = WebhookEvent.objects.get(webhook_id=headers["HTTP_X_SHOPIFY_WEBHOOK_ID"])
    if topic in PERSONAL_TOPICS:
        assert event.payload is None  # the personal payload is gone once processed
    return event.outcome or event.last_error
