"""`manage.py demo_revenue`: the demo shop's Revenue page has direct, assisted and
outside-the-window orders, written through the attribution service; running it twice adds
nothing; the demo catalog's stock is untouched."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from integrations.shopify.tokens import tokens_store
from notifyme.catalog.models import Variant
from notifyme.dev.demo import demo_load
from notifyme.revenue.models import RecoveredOrder
from tests.factories import grant_make
from tests.fixtures.shopify import id_token

pytestmark = pytest.mark.django_db
SHOP = "demo-shop.myshopify.com"


def test_the_demo_revenue_page_shows_orders(client: Client) -> None:
    shop = demo_load().shop
    tokens_store(shop=shop, grant=grant_make())  # installed: the app has its Shopify token
    stock = dict(Variant.objects.values_list("shopify_id", "available_quantity"))
    out = StringIO()
    call_command("demo_revenue", stdout=out)
    assert "direct recovered revenue" in out.getvalue()
    again = StringIO()
    call_command("demo_revenue", stdout=again)
    assert "already there" in again.getvalue() and RecoveredOrder.objects.count() == 4
    assert dict(Variant.objects.values_list("shopify_id", "available_quantity")) == stock

    report = client.get("/app/api/revenue",
                        HTTP_AUTHORIZATION=f"Bearer {id_token(SHOP)}").json()
    [total] = report["totals"]
    assert (total["direct"], total["assisted"], total["total"]) == ("149.00", "95.00", "244.00")
    assert {row["product_title"] for row in report["by_restock"]} == {
        "Waxed Canvas Tote", "Merino Crew Socks"}
    widened = client.post("/app/api/revenue", '{"window_days": 14}',
                          content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {id_token(SHOP)}").json()
    assert widened["totals"][0]["total"] == "280.00"  # Omar's order, 10 days after the alert


def test_the_demo_revenue_needs_the_demo_shop() -> None:
    with pytest.raises(CommandError, match=re.escape("run `manage.py demo` first")):
        call_command("demo_revenue")
