"""The support story in a real headless Chromium: a staff member logs in, finds a shopper by
email, sees the failed Klaviyo call and its fix, and after the fix (applied in the sandbox)
previews and confirms a retry; the worker's jobs run (in-process, as a worker runs them) and
the shopper's page then says the alert was sent."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from notifyme.catalog.services import variant_update_stock
from notifyme.restocks.fanout import fanout_send_chunk
from notifyme.restocks.models import Restock
from notifyme.restocks.services import detection_of
from notifyme.support.catalogue import entry
from tests.factories import klaviyo_connect, shop_make, subscription_make, variant_make
from tests.fixtures.sandbox import SandboxHandle

from .conftest import run_jobs

pytestmark = pytest.mark.browser
EMAIL = "jane.doe@example.com"


def test_find_a_shopper_see_the_failed_call_retry_after_the_fix_and_see_sent(
        page: Page, live_server: Any, transactional_db: None, staff_user: User,
        klaviyo_sandbox: SandboxHandle) -> None:
    shop = shop_make("browser-shop.myshopify.com")
    variant = variant_make(shop, quantity=0)
    connected = klaviyo_connect(shop, klaviyo_sandbox)
    subscription_make(shop, variant, email=EMAIL)
    run_jobs()  # the signup's sync, before anything fails
    klaviyo_sandbox.admin.set_faults(connected.account_id, error_rate=1.0,
                                     error_statuses=[400], path_prefix="/api/event")
    restock = detection_of(variant_update_stock(variant=variant, quantity=5)).restock
    assert restock is not None
    fanout_send_chunk(restock_id=restock.pk)
    restock.refresh_from_db()
    assert (restock.sent, restock.failed) == (0, 1)

    base = str(live_server.url)
    page.goto(f"{base}/admin/login/?next=/support/")
    page.fill("#id_username", "sam.support")
    page.fill("#id_password", "pw-Support-1")
    page.click("input[type=submit]")
    expect(page).to_have_url(f"{base}/support/")

    page.goto(f"{base}/support/shoppers/?q={EMAIL}")
    page.locator("tr", has_text=EMAIL).get_by_role("link", name="Timeline").first.click()
    shopper_url = page.url
    failed_call = page.locator("tr.event", has_text="create_event").filter(
        has_text="→ 400").first
    expect(failed_call).to_be_visible()
    expect(failed_call).to_contain_text(f"Fix: {entry('klaviyo', 'bad_request').fix}")
    expect(page.locator(".outcome.not-sent")).to_be_visible()

    klaviyo_sandbox.admin.clear_faults(connected.account_id)  # the fix, in Klaviyo
    page.locator("a.retry").first.click()
    expect(page.locator("body")).to_contain_text(EMAIL)  # the preview names the record
    page.get_by_role("button", name="Retry 1 record now").click()
    expect(page.locator('[data-outcome="queued"]')).to_be_visible()

    run_jobs()  # what the worker does with the retry's nudge
    restock.refresh_from_db()
    assert (restock.state, restock.sent) == (Restock.State.COMPLETED, 1)
    page.goto(shopper_url)
    expect(page.locator(".outcome.sent .sentence")).to_contain_text("Sent at")
    page.screenshot(path="/tmp/support-retry-sent.png", full_page=True)  # for a human
