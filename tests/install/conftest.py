"""Install fixtures: a shop that exists in the Shopify stand-in but not (yet) in the app."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.fixtures.shopify_standin import StandinHandle

SHOP = "linen-co.myshopify.com"


@pytest.fixture
def standin_shop(shopify_standin: StandinHandle) -> str:
    """A Shopify shop the app has never seen, with a second location and a product."""
    admin = shopify_standin.admin
    admin.create_shop(SHOP, name="Linen & Co", email="owner@linen.example", currency="EUR",
                      country="FR")
    admin.add_product(SHOP, "Linen Shirt", variants=[
        {"title": "S", "sku": "LS-S", "price": "49.00", "stock": 0},
        {"title": "M", "sku": "LS-M", "price": "49.00", "stock": 3}], notify=False)
    return SHOP


def open_app(client: Client, standin: StandinHandle, shop: str, **token_options: Any) -> Any:
    """The Shopify admin opening the embedded app: GET /app/ with a fresh ID token."""
    token = standin.admin.mint_id_token(shop, **token_options)
    return client.get("/app/", {"id_token": token, "shop": shop, "embedded": "1",
                                "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvbGluZW4tY28"})
