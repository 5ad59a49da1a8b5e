"""Subscribers-page fixtures: two shops with catalogs, and the page's own API client (a fresh
App Bridge ID token on every request, as the embedded page sends)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.shops.models import Shop
from tests.factories import shop_make, variant_make
from tests.fixtures.shopify import id_token

SHOP = "demo-shop.myshopify.com"
OTHER = "other-shop.myshopify.com"


class Merchant:
    """The Subscribers page of one shop, talking HTTP to /app/api/subscribers."""

    def __init__(self, client: Client, shop: Shop) -> None:
        self.client, self.shop = client, shop

    def headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {id_token(self.shop.domain)}"}

    def list(self, **params: Any) -> Any:
        return self.client.get("/app/api/subscribers", params, **self.headers())

    def remove(self, subscription_id: int) -> Any:
        return self.client.delete(f"/app/api/subscribers/{subscription_id}", **self.headers())

    def export(self, **params: Any) -> Any:
        return self.client.get("/app/api/subscribers/export.csv", params, **self.headers())

    def upload(self, content: bytes | str, name: str = "waitlist.csv") -> Any:
        raw = content.encode("utf-8") if isinstance(content, str) else content
        upload = SimpleUploadedFile(name, raw, content_type="text/csv")
        return self.client.post("/app/api/subscribers/imports", {"file": upload},
                                **self.headers())

    def get(self, path: str) -> Any:
        return self.client.get(f"/app/api/subscribers{path}", **self.headers())


@pytest.fixture
def shop(db: None) -> Shop:
    return shop_make(SHOP, name="Demo Outfitters")


@pytest.fixture
def other_shop(db: None) -> Shop:
    return shop_make(OTHER, name="Other Shop")


@pytest.fixture
def shirt(shop: Shop) -> Variant:
    return variant_make(shop, shopify_id=4001, product_id=9001, title="Large",
                        product_title="Linen Shirt")


@pytest.fixture
def boots(shop: Shop) -> Variant:
    return variant_make(shop, shopify_id=4002, product_id=9002, title="42",
                        product_title="Trail Boots")


@pytest.fixture
def merchant(client: Client, shop: Shop) -> Merchant:
    return Merchant(client, shop)


@pytest.fixture
def other_merchant(client: Client, other_shop: Shop) -> Merchant:
    return Merchant(client, other_shop)
