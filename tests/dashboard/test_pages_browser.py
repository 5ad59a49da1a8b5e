"""A merchant walks the app in a real headless Chromium, inside the local admin frame: the
app's navigation (tabs where App Bridge is absent), the Demand page's ranking and its 30/90-day
switch, then the Restocks page's sending settings with a refused value named under its field,
fixed and saved; and a restock's progress moving live on the Restocks page, on a phone.
Every link goes through the bounce page for a fresh ID token, as in the admin."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from notifyme.catalog.models import Variant
from notifyme.catalog.services import variant_update_stock
from notifyme.restocks.models import RestockSettings
from notifyme.restocks.services import detection_of
from notifyme.shops.models import Shop
from tests.factories import shop_grant, subscriptions_bulk_make
from tests.restocks.conftest import connect, drain

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(live_server: Any, transactional_db: None) -> Shop:
    call_command("demo", stdout=io.StringIO())
    shop = shop_grant()
    waiting = Variant.objects.filter(shop=shop, available_quantity=0, inventory_tracked=True,
                                     inventory_policy="deny").select_related("product")
    for count, variant in zip((7, 3), waiting, strict=False):
        subscriptions_bulk_make(shop, variant, count, prefix=f"v{variant.pk}-")
    return shop


def test_navigate_demand_then_fix_a_sending_setting(page: Page, live_server: Any,
                                                    demo: Shop) -> None:
    page.goto(str(live_server.url) + "/dev/admin/")
    app = page.frame_locator("#app-frame")
    nav = app.get_by_role("navigation", name="notifyme")
    expect(nav.get_by_role("link")).to_have_text(
        ["Settings", "Subscribers", "Demand", "Restocks", "Revenue"])
    expect(nav.get_by_role("link", name="Settings")).to_have_attribute("aria-current", "page")

    nav.get_by_role("link", name="Demand").click()
    expect(app.get_by_role("heading", name="Demand", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Demand")).to_have_attribute("aria-current", "page")
    rows = app.locator("[data-demand-rows] tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("7")
    expect(app.locator("[data-total-waiting]")).to_have_text("10")
    thirty, ninety = app.locator(".chart--30"), app.locator(".chart--90")
    expect(thirty).to_be_visible()
    expect(ninety).to_be_hidden()
    app.get_by_text("Last 90 days", exact=True).click()
    expect(app.get_by_role("radio", name="Last 90 days")).to_be_checked()
    expect(ninety).to_be_visible()
    expect(thirty).to_be_hidden()
    expect(ninety.locator("[data-chart-total]")).to_have_text("10")
    url = page.frames[1].url
    assert "/app/demand?" in url and "dev_frame=1" in url  # came back through the bounce
    page.screenshot(path="/tmp/notifyme-demand.png", full_page=True)

    nav.get_by_role("link", name="Restocks").click()
    expect(app.get_by_role("heading", name="Restocks", exact=True)).to_be_visible()
    expect(app.get_by_text("No restocks yet")).to_be_visible()
    app.get_by_label("In batches sized to the stock").check()
    interval = app.get_by_label("Minutes between batches")
    interval.fill("0")
    app.get_by_role("button", name="Save sending settings").click()
    error = app.locator("#batch_interval_minutes-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("batch_interval_minutes")
    expect(error).to_contain_text("from 1 to 1,440")
    expect(interval).to_have_attribute("aria-invalid", "true")
    assert RestockSettings.objects.get(shop=demo).send_mode == "all_at_once"  # nothing saved

    interval.fill("15")
    app.get_by_role("button", name="Save sending settings").click()
    expect(app.locator("#flash")).to_contain_text("Sending settings saved.")
    expect(error).to_be_hidden()
    saved = RestockSettings.objects.get(shop=demo)
    assert (saved.send_mode, saved.batch_interval_minutes) == ("batched", 15)
    page.screenshot(path="/tmp/notifyme-restocks.png", full_page=True)


def test_restocks_page_shows_live_progress(page: Page, live_server: Any, demo: Shop,
                                           klaviyo_sandbox: Any) -> None:
    connect(klaviyo_sandbox, demo)
    variant = Variant.objects.filter(shop=demo, subscriptions__isnull=False).distinct().first()
    assert variant is not None
    restock = detection_of(variant_update_stock(variant=variant, quantity=2)).restock
    assert restock is not None

    page.set_viewport_size({"width": 420, "height": 900})  # a phone: the table scrolls
    page.goto(str(live_server.url) + "/dev/admin/")
    app = page.frame_locator("#app-frame")
    app.get_by_role("navigation", name="notifyme").get_by_role("link", name="Restocks").click()
    row = app.locator(f'[data-restock-id="{restock.pk}"]')
    expect(row).to_contain_text(f"restock #{restock.pk}, 2 back")
    expect(row).to_contain_text("Sending")
    expect(row).to_contain_text(f"0 / {restock.total}")
    expect(row).to_contain_text("All at once")

    drain(restock)  # what the workers would do
    expect(row).to_contain_text(f"{restock.total} / {restock.total}", timeout=10_000)
    expect(row).to_contain_text(f"Completed: {restock.total} sent.")
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    page.screenshot(path="/tmp/notifyme-restocks-live.png", full_page=True)
