"""Orders placed in the Shopify stand-in reach the running app as Shopify sends them (signed
`orders/create` to a live server), through its control API and its `order` command; the
stand-in's "through the alert" link is the one the app tags its alerts with."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.dev.demo import demo_load
from notifyme.restocks.links import alert_link_parse
from notifyme.revenue.models import RecoveredOrder
from notifyme.webhooks import processing
from sandboxes.shopify.admin import StandinAdminError
from tests.factories import klaviyo_connect
from tests.fixtures.shopify import id_token
from tests.fixtures.shopify_standin import StandinHandle
from tests.revenue.conftest import SHOP, restock, signup

pytestmark = pytest.mark.django_db(transaction=True)
SKU = "DO-LCS-MEDIUM"  # Linen Camp Shirt, Medium: sold out in the demo catalog


@pytest.fixture
def alerted(shopify_standin: StandinHandle, live_server: Any, klaviyo_sandbox: Any,
            client: Client) -> tuple[StandinHandle, int]:
    """The demo shop in both the stand-in and the app; Ada waited for the Medium shirt and
    got her alert. The stand-in's webhooks go to the live app."""
    shopify_standin.admin.seed_demo()
    shopify_standin.admin.config(app_url=live_server.url)
    shop = demo_load().shop
    klaviyo_connect(shop, klaviyo_sandbox)
    variant = Variant.objects.get(shop=shop, sku=SKU)
    signup(client, variant, email="ada@example.com", customer_id="9100")
    return shopify_standin, restock(variant).pk


def _process(handle: StandinHandle) -> None:
    assert handle.admin.wait_webhooks(timeout=30)
    processing.process_shop(SHOP)


def _report(client: Client) -> dict[str, Any]:
    return dict(client.get("/app/api/revenue",
                           HTTP_AUTHORIZATION=f"Bearer {id_token(SHOP)}").json())


def test_standin_orders_are_direct_and_assisted(alerted: tuple[StandinHandle, int],
                                                client: Client) -> None:
    handle, restock_id = alerted
    direct = handle.admin.create_order(SHOP, SKU, quantity=2, email="ada@example.com",
                                       through_alert=restock_id)
    link = alert_link_parse(direct["landing_site"])
    assert (link.direct, link.restock_id) == (True, restock_id)  # the app's own tag
    handle.admin.create_order(SHOP, SKU, customer_id=9100, landing_site="https://x.test/")
    handle.admin.create_order(SHOP, SKU, email="stranger@example.com", through_alert=restock_id)
    _process(handle)
    assert [e["state"] for e in handle.admin.webhook_log(SHOP)] == ["delivered"] * 3
    [total] = _report(client)["totals"]
    assert (total["direct"], total["assisted"], total["orders"]) == ("136.00", "68.00", 2)
    assert set(RecoveredOrder.objects.values_list("channel", flat=True)) == {"direct",
                                                                             "assisted"}
    cancelled = handle.admin.cancel_order(SHOP, direct["id"])
    assert cancelled["cancelled_at"] is not None
    _process(handle)
    [total] = _report(client)["totals"]
    assert (total["direct"], total["assisted"], total["orders"]) == ("0.00", "68.00", 1)
    with pytest.raises(StandinAdminError, match="cancelled already"):
        handle.admin.cancel_order(SHOP, direct["id"])


def _command(handle: StandinHandle, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m sandboxes.shopify order --url <stand-in> <shop> <sku> ...` as a developer
    types it."""
    cmd = [sys.executable, "-m", "sandboxes.shopify", "order", "--url", handle.url, SHOP, SKU,
           *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60,  # noqa: S603
                          check=False)


def test_the_order_command_places_an_order(alerted: tuple[StandinHandle, int],
                                           client: Client) -> None:
    handle, restock_id = alerted
    done = _command(handle, "--email", "ada@example.com", "--through-alert", str(restock_id))
    assert done.returncode == 0, done.stderr
    assert "orders/create sent" in done.stdout and "utm_source=notifyme" in done.stdout
    old = _command(handle, "--email", "ada@example.com", "--days-ago", "10")
    assert old.returncode == 0, old.stderr
    _process(handle)
    # The second order is dated before the alert (10 days ago): not recovered.
    assert _report(client)["totals"][0]["direct"] == "68.00"
    assert RecoveredOrder.objects.count() == 1
    refused = _command(handle, "--quantity", "0")
    assert refused.returncode == 1 and "quantity" in refused.stderr
