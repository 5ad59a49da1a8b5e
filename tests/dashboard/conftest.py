"""Dashboard fixtures: the demo shop and a bearer-authenticated JSON client (sandbox accounts
and keys: tests/fixtures/klaviyo_keys.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from notifyme.shops.models import Shop
from tests.factories import shop_make
from tests.fixtures.shopify import id_token

SHOP = "demo-shop.myshopify.com"


@pytest.fixture
def demo_shop(db: None) -> Shop:
    return shop_make(SHOP, name="Demo Outfitters")


class Api:
    """POST/GET the JSON API as the embedded page would (a fresh ID token per request)."""

    def __init__(self, client: Client, shop: Shop) -> None:
        self.client, self.shop = client, shop

    def headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {id_token(self.shop.domain)}"}

    def get(self, path: str) -> Any:
        return self.client.get(f"/app/api/klaviyo{path}", **self.headers())

    def post(self, path: str, body: Any = None, *, raw: bytes | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(f"/app/api/klaviyo{path}", data=data,
                                content_type="application/json", **self.headers())


@pytest.fixture
def api(client: Client, demo_shop: Shop) -> Api:
    return Api(client, demo_shop)
