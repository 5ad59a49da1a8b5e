"""Recovered revenue, driven as in production: shoppers sign up through the signed app proxy,
a restock sends their alerts to the Klaviyo sandbox through the real fan-out, then Shopify's
signed `orders/create` webhooks reach POST /webhooks/shopify and the webhook job attributes
them; the merchant reads /app/api/revenue with an ID token."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.catalog.services import variant_update_stock
from notifyme.restocks.models import Restock
from notifyme.restocks.services import detection_of
from notifyme.shops.models import Shop
from notifyme.webhooks import processing
from notifyme.webhooks.models import WebhookEvent
from tests.factories import klaviyo_connect
from tests.fixtures.shopify import id_token, make_shop, make_variant, signed_proxy_query
from tests.restocks.conftest import drain
from tests.subscriptions.helpers import subscribe
from tests.webhooks.conftest import deliver

SHOP = "demo-shop.myshopify.com"
OTHER = "other-shop.myshopify.com"
SHOP_TZ = timezone(timedelta(hours=-5))  # Shopify's REST times carry the shop's offset
ADA_CUSTOMER = 7_001_001


def signup(client: Client, variant: Variant, *, shop: str = SHOP, customer_id: str = "",
           **body: Any) -> None:
    """A storefront signup through the signed app proxy (as the theme block posts it)."""
    response = subscribe(client, {"variant_id": variant.shopify_id, **body}, shop_domain=shop,
                         query=signed_proxy_query(shop, customer_id=customer_id))
    assert response.status_code in (200, 201), response.content


def restock(variant: Variant, quantity: int = 5) -> Restock:
    """Stock comes back (the catalog service the inventory webhook calls); the fan-out sends
    every waiting shopper's alert to the Klaviyo sandbox."""
    found = detection_of(variant_update_stock(variant=variant, quantity=quantity)).restock
    assert found is not None
    drain(found)
    assert found.state == Restock.State.COMPLETED and found.failed == 0
    return found


def order_payload(order_id: int, *, lines: list[tuple[int, int, str]], at: datetime,
                  email: str | None = None, phone: str | None = None,
                  customer_id: int | None = None, landing_site: str | None = "/",
                  currency: str = "USD") -> dict[str, Any]:
    """Shopify's REST order as `orders/create` sends it (the fields the app reads, and some
    it must ignore: addresses, totals, the customer's name)."""
    customer = None if customer_id is None and email is None else {
        "id": customer_id, "email": email, "phone": phone, "first_name": "Ada",
        "last_name": "Lovelace", "default_address": {"address1": "1 Analytical Row"}}
    return {
        "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{order_id % 10_000}", "created_at": at.astimezone(SHOP_TZ).isoformat(),
        "currency": currency, "presentment_currency": currency, "email": email or "",
        "contact_email": email, "phone": phone, "customer": customer,
        "landing_site": landing_site, "referring_site": "", "source_name": "web",
        "total_price": "999.00", "financial_status": "paid",
        "shipping_address": {"address1": "1 Analytical Row", "city": "London"},
        "line_items": [{"id": order_id * 10 + n, "variant_id": variant_id, "product_id": 9001,
                        "quantity": quantity, "price": price, "title": "Linen Shirt",
                        "price_set": {"shop_money": {"amount": price, "currency_code": currency}}}
                       for n, (variant_id, quantity, price) in enumerate(lines)],
    }


def landing_of(url: str) -> str:
    """Shopify's `landing_site`: the path and query of the first page of the visit."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@dataclass
class Store:
    """One merchant with alerted shoppers, the webhook and the merchant API as clients."""

    client: Client
    shop: Shop
    variant: Variant
    other_variant: Variant
    account_id: str
    sandbox: Any
    restocks: list[Restock] = field(default_factory=list)

    def order(self, payload: dict[str, Any], *, shop_domain: str = SHOP,
              webhook_id: str | None = None, topic: str = "orders/create") -> WebhookEvent:
        """Deliver `orders/create` (or `topic`) signed as Shopify does and run the webhook
        job; returns the stored event."""
        response = deliver(self.client, topic, payload, shop_domain=shop_domain,
                           webhook_id=webhook_id)
        assert response.status_code == 200
        processing.process_shop(shop_domain)
        return WebhookEvent.objects.filter(shop_domain=shop_domain, topic=topic).latest("id")

    def report(self, shop_domain: str = SHOP) -> dict[str, Any]:
        response = self.client.get("/app/api/revenue",
                                   HTTP_AUTHORIZATION=f"Bearer {id_token(shop_domain)}")
        assert response.status_code == 200, response.content
        return dict(response.json())

    def set_window(self, value: Any, shop_domain: str = SHOP) -> Any:
        return self.client.post("/app/api/revenue", json.dumps({"window_days": value}),
                                content_type="application/json",
                                HTTP_AUTHORIZATION=f"Bearer {id_token(shop_domain)}")

    def alert_url(self) -> str:
        """The product link of the alert Klaviyo received (what the email links to)."""
        events = self.sandbox.admin.events(self.account_id, metric="Back in Stock")
        return str(events[0]["properties"]["product_url"])


@pytest.fixture
def store(client: Client, klaviyo_sandbox: Any, db: None) -> Store:
    """Ada (logged in, customer id), Bob (phone only) and Cyd (email) wait for variant 4001;
    nobody waits for 4002. Then 4001 is restocked and all three get their alert."""
    shop = make_shop(SHOP)
    variant = make_variant(shop, shopify_id=4001, quantity=0)
    other_variant = make_variant(shop, shopify_id=4002, quantity=0, title="Small")
    connected = klaviyo_connect(shop, klaviyo_sandbox)
    signup(client, variant, customer_id=str(ADA_CUSTOMER), email="ada@example.com")
    signup(client, variant, phone="+1 415 555 0123")
    signup(client, variant, email="cyd@example.com")
    found = Store(client, shop, variant, other_variant, connected.account_id, klaviyo_sandbox)
    found.restocks.append(restock(variant))
    return found
