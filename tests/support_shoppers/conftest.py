"""Shopper-timeline fixtures: a shop whose catalog arrived by webhook, connected to its own
sandbox account; storefront signups through the signed app proxy; the sync and the fan-out
run in-process, exactly the jobs the workers run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.restocks.fanout import fanout_send_chunk
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.webhooks import processing
from notifyme.webhooks.models import WebhookEvent
from tests.catalog.conftest import VARIANT_ID
from tests.catalog.rest_payloads import rest_level, rest_product
from tests.factories import Connected, klaviyo_connect
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import make_shop, signed_proxy_query
from tests.restocks.conftest import drain as drain_restock
from tests.subscriptions.helpers import subscribe
from tests.sync.conftest import drain as drain_sync
from tests.webhooks.conftest import deliver

SHOPPERS = "/support/shoppers/"


@dataclass
class Store:
    """One merchant: its shop, the variant its product webhook created, its Klaviyo."""

    shop: Shop
    variant: Variant
    klaviyo: Connected
    sandbox: SandboxHandle
    client: Client

    def webhook(self, topic: str, payload: Any) -> WebhookEvent:
        """Shopify delivers a signed webhook; the shop's webhook job runs."""
        response = deliver(self.client, topic, payload, shop_domain=self.shop.domain)
        assert response.status_code == 200
        processing.process_shop(self.shop.domain)
        return WebhookEvent.objects.filter(shop_domain=self.shop.domain).latest("id")

    def signup(self, body: dict[str, Any], *, customer_id: str = "") -> Subscription:
        """A shopper presses "Notify me" (the storefront form through the app proxy)."""
        query = signed_proxy_query(self.shop.domain, customer_id=customer_id)
        response = subscribe(self.client, {"variant_id": VARIANT_ID, **body},
                             shop_domain=self.shop.domain, query=query)
        assert response.status_code == 201, response.content
        return Subscription.objects.get(pk=response.json()["subscription"]["id"])

    def sync(self) -> None:
        drain_sync(self.shop.pk)

    def restock(self, available: int, *, drain: bool = True) -> Restock:
        """Stock arrives in Shopify: the inventory webhook, then the fan-out drains (or, with
        `drain=False`, runs its job once)."""
        event = self.webhook("inventory_levels/update", rest_level(available))
        assert "restock #" in event.outcome, event.outcome
        restock = Restock.objects.filter(shop=self.shop).latest("id")
        if drain:
            drain_restock(restock)
        else:
            fanout_send_chunk(restock_id=restock.pk)
        return restock


@pytest.fixture
def store(db: None, klaviyo_sandbox: SandboxHandle) -> Store:
    shop = make_shop()
    klaviyo = klaviyo_connect(shop, klaviyo_sandbox)
    client = Client()
    response = deliver(client, "products/create", rest_product(), shop_domain=shop.domain)
    assert response.status_code == 200
    processing.process_shop(shop.domain)
    variant = Variant.objects.get(shop=shop, shopify_id=VARIANT_ID)
    return Store(shop, variant, klaviyo, klaviyo_sandbox, client)


def outcome_sentences(page: str) -> list[str]:
    """The outcome sentence of each alert on a shopper page, as text."""
    found = re.findall(r'<p class="sentence">(.*?)</p>', page, flags=re.S)
    return [unescape(" ".join(text.split())) for text in found]


def text_of(page: str) -> str:
    """The page's text (tags dropped, entities decoded), for "is it shown" checks."""
    return unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def shopper_link(search_page: str) -> str:
    links = re.findall(r'href="(/support/shoppers/\d+/)"', search_page)
    assert links, search_page[:2000]
    return str(links[0])
