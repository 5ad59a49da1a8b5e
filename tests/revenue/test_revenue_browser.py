"""The Revenue page in a real headless Chromium inside the local admin frame: the merchant sees
the demo's recovered revenue, gets the field's error for a bad window, saves a wider one and
sees the numbers re-counted — without layout shift."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.factories import shop_grant

pytestmark = pytest.mark.browser
CLS = """() => new Promise(resolve => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: "layout-shift", buffered: true});
  setTimeout(() => resolve(total), 300);
})"""


def test_the_merchant_reads_and_tunes_recovered_revenue(page: Page, live_server: Any,
                                                        transactional_db: None) -> None:
    call_command("demo", stdout=io.StringIO())
    shop_grant()  # its Shopify token, as the install's exchange stores it
    call_command("demo_revenue", stdout=io.StringIO())

    page.goto(str(live_server.url) + "/dev/admin/")
    page.locator("#app-frame").evaluate(  # the admin opens the app's Revenue page
        "f => { f.src = f.src.replace('/app/?', '/app/revenue?'); }")
    app = page.frame_locator("#app-frame")
    expect(app.get_by_role("heading", name="Recovered revenue")).to_be_visible()
    totals = app.locator('[data-revenue-totals="USD"]')
    expect(totals.locator("[data-total]")).to_have_text("244.00 USD")
    expect(totals.locator("[data-direct]")).to_have_text("149.00")
    expect(app.locator("[data-revenue-by-restock] tbody tr")).to_have_count(2)
    frame = next(f for f in page.frames if "/app/revenue" in f.url)
    assert frame.evaluate(CLS) <= 0.1  # Built for Shopify: CLS ≤ 0.1

    field = app.get_by_label("Count an order as recovered when it comes within")
    field.fill("ninety")
    app.get_by_role("button", name="Save").click()
    error = app.locator("#window_days-error")
    expect(error).to_have_text("Enter a whole number of days from 1 to 90.")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(totals.locator("[data-total]")).to_have_text("244.00 USD")

    field.fill("14")
    app.get_by_role("button", name="Save").click()
    expect(app.locator("#flash")).to_contain_text("Saved: 14-day window")
    expect(error).to_be_hidden()
    expect(app.locator('[data-revenue-totals="USD"] [data-total]')).to_have_text("280.00 USD")
    expect(app.get_by_role("heading", name="Ordered within 14 days of an alert (all time)")
           ).to_be_visible()
    page.screenshot(path="/tmp/revenue-page.png", full_page=True)  # for a human to look at
