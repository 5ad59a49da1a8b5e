"""The "Restock alerts" panel in a real headless Chromium, inside the local admin frame: it
polls GET /app/api/restocks every 2 s with fresh ID tokens and shows progress as it moves."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from notifyme.catalog.models import Variant
from notifyme.catalog.services import variant_update_stock
from notifyme.restocks.services import detection_of
from notifyme.shops.models import Shop
from tests.factories import shop_grant
from tests.restocks.conftest import add_subscribers, connect, drain, materialise_all

pytestmark = pytest.mark.browser


def test_panel_shows_live_progress(page: Page, live_server: Any, transactional_db: None,
                                   klaviyo_sandbox: Any) -> None:
    call_command("demo", stdout=io.StringIO())
    shop_grant()  # its Shopify token, as the install's exchange stores it
    klaviyo_sandbox.admin.set_rate_limits(enabled=True, scale=10)
    shop = Shop.objects.get(domain="demo-shop.myshopify.com")
    connect(klaviyo_sandbox, shop)
    variant = Variant.objects.filter(shop=shop, available_quantity=0, inventory_tracked=True,
                                     inventory_policy="deny").select_related("product").first()
    assert variant is not None
    add_subscribers(shop, variant, 1500, prefix="panel")
    restock = detection_of(variant_update_stock(variant=variant, quantity=4)).restock
    assert restock is not None
    materialise_all(restock)  # what the workers' materialise job would do

    page.goto(str(live_server.url) + "/dev/admin/")
    app = page.frame_locator("#app-frame")
    panel = app.locator("#restocks-panel")
    expect(app.get_by_role("heading", name="Restock alerts")).to_be_visible()
    row = panel.locator("tbody tr").first
    expect(row).to_contain_text(f"restock #{restock.pk}, 4 back", timeout=10_000)
    expect(row).to_contain_text("0 / 1,500")
    expect(row).to_contain_text("Sending")

    drain(restock)  # what the workers would do
    expect(row).to_contain_text("1,500 / 1,500", timeout=10_000)
    expect(row).to_contain_text("Completed")
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    panel.screenshot(path="/tmp/restocks-panel.png")  # for a human to look at
