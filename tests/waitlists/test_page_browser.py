"""The Subscribers page in a real headless Chromium: the merchant searches, removes a
subscriber, imports a waitlist with a bad row and downloads the CSV export. ID tokens come the
way App Bridge's `shopify.idToken()` gives them, minted by the dev admin frame's token URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from tests.factories import shop_make, subscription_make, variant_make
from tests.fixtures.shopify import id_token

pytestmark = pytest.mark.browser
SHOP = "demo-shop.myshopify.com"
APP_BRIDGE = """window.shopify = { idToken: function () {
  return fetch("/dev/admin/token?shop=SHOP").then(function (r) { return r.json(); })
    .then(function (body) { return body.token; }); } };""".replace("SHOP", SHOP)


@pytest.fixture
def shop(browser: Browser, live_server: Any, transactional_db: None) -> Shop:
    shop = shop_make(SHOP, name="Demo Outfitters")
    shirt = variant_make(shop, shopify_id=4001, product_id=9001, product_title="Linen Shirt")
    boots = variant_make(shop, shopify_id=4002, product_id=9002, product_title="Trail Boots")
    subscription_make(shop, shirt, email="ada@example.com")
    subscription_make(shop, boots, email="bob@example.com", phone="+14155550101")
    return shop


def test_search_remove_import_and_export(page: Page, live_server: Any, shop: Shop,
                                         tmp_path: Path) -> None:
    page.add_init_script(APP_BRIDGE)
    page.goto(f"{live_server.url}/app/subscribers?shop={SHOP}&dev_frame=1&embedded=1"
              f"&id_token={id_token(SHOP)}")
    expect(page.get_by_role("heading", name="Subscribers")).to_be_visible()
    expect(page.locator("[data-count]")).to_have_text("2 subscribers")
    rows = page.locator("[data-rows] tr")
    expect(rows).to_have_count(2)

    page.get_by_label("Search").fill("trail")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("bob@example.com")
    expect(rows.first).to_contain_text("Trail Boots")
    expect(rows.first).to_contain_text("Waiting for restock")

    rows.first.get_by_role("button", name="Remove bob@example.com").click()
    page.locator("#remove-dialog").get_by_role("button", name="Remove").click()
    expect(rows.first).to_contain_text("Unsubscribed")
    expect(page.locator("#flash")).to_have_text("Subscriber removed.")
    assert Subscription.objects.get(email="bob@example.com").status == "unsubscribed"

    page.get_by_label("Search").fill("")
    page.get_by_role("button", name="Import waitlist").click()
    waitlist = tmp_path / "waitlist.csv"
    waitlist.write_text("Customer Email,Variant ID,Accepts Marketing,Created At\n"
                        "cy@example.com,4001,yes,2024-01-05T10:00:00Z\n"
                        "nope,4001,no,2024-01-05T10:00:00Z\n")
    page.get_by_label("CSV file").set_input_files(str(waitlist))
    page.locator("#import-dialog").get_by_role("button", name="Import").click()
    expect(page.locator("#flash")).to_have_text("1 added, 0 already there, 1 not imported.")
    imported = page.locator("[data-imports] tr")
    expect(imported).to_have_count(1)
    expect(imported.first).to_contain_text("waitlist.csv")
    with page.expect_download() as report:
        imported.first.get_by_role("button", name="Download error report").click()
    text = Path(report.value.path()).read_text("utf-8-sig")
    assert text.splitlines()[0] == "row,field,message" and text.splitlines()[1].startswith("3,")
    expect(page.locator("[data-count]")).to_have_text("3 subscribers")
    assert Subscription.objects.get(email="cy@example.com").source == "import"

    with page.expect_download() as export:
        page.get_by_role("button", name="Export CSV").click()
    exported = Path(export.value.path()).read_text("utf-8-sig").splitlines()
    assert exported[0].startswith("email,phone,first_name,product")
    assert len(exported) == 4
    page.screenshot(path="/tmp/notifyme-subscribers.png", full_page=True)
