"""Webhook test helpers: deliveries posted to the app exactly as Shopify posts them."""

from __future__ import annotations

from typing import Any

import django_rq
from django.http import HttpResponse
from django.test import Client

from notifyme.webhooks.models import WebhookEvent
from tests.fixtures.shopify import signed_webhook

URL = "/webhooks/shopify"
SHOP = "demo-shop.myshopify.com"


def deliver(client: Client, topic: str, payload: Any = None, *, shop_domain: str = SHOP,
            **signing: Any) -> HttpResponse:
    """POST one signed delivery; `signing` goes to `signed_webhook` (webhook_id, secret, raw)."""
    body, headers = signed_webhook(topic, payload if payload is not None else {"id": 1},
                                   shop_domain=shop_domain, **signing)
    return client.post(URL, body, content_type="application/json", **headers)


def webhook_jobs() -> list[str]:
    """Ids of the webhook jobs queued on the `sync` lane."""
    return [job_id for job_id in django_rq.get_queue("sync").job_ids
            if job_id.startswith("webhooks-")]


def states() -> dict[str, int]:
    found: dict[str, int] = {}
    for state in WebhookEvent.objects.values_list("state", flat=True):
        found[state] = found.get(state, 0) + 1
    return found
