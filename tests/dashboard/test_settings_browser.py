"""The merchant's flow in a real headless Chromium, through the local admin frame stand-in:
the frame embeds /app/ with a real signed ID token and relays fresh tokens to the page's
requests; the page talks to the Klaviyo sandbox over HTTP through the real services.

Playwright drives Debian's /usr/bin/chromium (scripts/ensure-chromium.sh); screenshots are saved
under /tmp for a human to look at.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.scopes import ALL_REQUIRED
from tests.factories import shop_grant

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp")


@pytest.fixture
def base_url(browser: Browser, live_server: Any, transactional_db: None,
             klaviyo_sandbox: Any) -> str:
    call_command("demo", stdout=io.StringIO())
    shop_grant()  # its Shopify token, as the install's exchange stores it
    klaviyo_sandbox.admin.set_rate_limits(enabled=True, scale=10)
    return str(live_server.url)


def test_connect_through_the_admin_frame(page: Page, base_url: str, klaviyo_sandbox: Any) -> None:
    account = klaviyo_sandbox.admin.create_account(name="Demo Outfitters Klaviyo")
    missing = klaviyo_sandbox.admin.create_key(
        account["id"], [s for s in ALL_REQUIRED if s != "profiles:write"])
    full = klaviyo_sandbox.admin.create_key(account["id"], "all")

    page.goto(base_url + "/dev/admin/")
    app = page.frame_locator("#app-frame")
    expect(app.get_by_role("heading", name="Klaviyo is not connected")).to_be_visible()
    expect(app.locator("[data-status]")).to_have_text("Not connected")

    key_input = app.get_by_label("Private API key")
    key_input.fill(missing)
    app.get_by_role("button", name="Verify and connect").click()
    error = app.locator("#private_key-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("profiles:write")
    expect(error).to_contain_text("Full Access")
    expect(error).to_contain_text("You cannot edit a key after it is created")
    expect(key_input).to_have_attribute("aria-invalid", "true")
    expect(key_input).to_have_value("")  # the pasted key is never kept in the page
    expect(app.locator("[data-status]")).to_have_text("Not connected")
    page.screenshot(path=str(SHOTS / "notifyme-klaviyo-missing-scope.png"), full_page=True)
    assert not KlaviyoConnection.objects.exists()

    key_input.fill(full)
    app.get_by_role("button", name="Verify and connect").click()
    expect(app.get_by_role("heading", name="Connected and syncing")).to_be_visible()
    expect(app.locator("[data-status]")).to_have_text("Connected")
    expect(app.locator("[data-account-name]")).to_have_text("Demo Outfitters Klaviyo")
    expect(app.locator("[data-key-display]")).to_have_text(f"pk_…{full[-4:]}")
    expect(app.locator("[data-list-name]")).to_contain_text("Back in Stock")
    expect(app.locator("#status-title")).to_be_focused()
    expect(app.locator("#flash")).to_contain_text("Connected to Klaviyo account")
    html = app.locator("body").inner_html()
    assert full not in html and missing not in html
    page.screenshot(path=str(SHOTS / "notifyme-klaviyo-connected.png"), full_page=True)
    # The whole app document at full height (the frame's own URL, still-valid token).
    whole = page.context.new_page()
    whole.goto(page.frames[1].url)
    expect(whole.get_by_role("heading", name="Connected and syncing")).to_be_visible()
    whole.screenshot(path=str(SHOTS / "notifyme-klaviyo-settings-full.png"), full_page=True)
    whole.close()

    # Re-test, load lists, then disconnect with confirmation.
    app.get_by_role("button", name="Re-test now").click()
    expect(app.locator("#flash")).to_contain_text("Verified")
    app.get_by_role("button", name="Load my lists").click()
    expect(app.locator("#list_choice option")).to_have_count(1)
    app.get_by_role("button", name="Disconnect").click()
    dialog = app.get_by_role("dialog", name="Disconnect Klaviyo?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Disconnect").click()
    expect(app.get_by_role("heading", name="Klaviyo is not connected")).to_be_visible()
    assert KlaviyoConnection.objects.get().status == "disconnected"


def test_narrow_screen_and_needs_attention(page: Page, base_url: str,
                                         klaviyo_sandbox: Any) -> None:
    from integrations.klaviyo.services import (
        ConnectionRefused,
        connection_connect,
        connection_retest,
    )
    from notifyme.shops.models import Shop

    account = klaviyo_sandbox.admin.create_account(name="Demo Outfitters Klaviyo")
    key = klaviyo_sandbox.admin.create_key(account["id"], "all")
    shop = Shop.objects.get(domain="demo-shop.myshopify.com")
    connection_connect(shop=shop, private_key=key)
    klaviyo_sandbox.admin.set_key_scopes(key, [s for s in ALL_REQUIRED if s != "events:write"])
    with pytest.raises(ConnectionRefused):
        connection_retest(shop=shop)
    page.set_viewport_size({"width": 420, "height": 900})
    page.goto(base_url + "/dev/admin/")
    app = page.frame_locator("#app-frame")
    expect(app.get_by_role("heading", name="Syncing is paused: needs attention")).to_be_visible()
    expect(app.get_by_role("alert")).to_contain_text("events:write")
    expect(app.locator(".scopes li.missing")).to_have_text(["✕ events:write (missing)"])
    page.screenshot(path=str(SHOTS / "notifyme-klaviyo-needs-attention-narrow.png"),
                    full_page=True)


def test_missing_demo_shop_is_explained(page: Page, live_server: Any,
                                        transactional_db: None) -> None:
    response = page.goto(str(live_server.url) + "/dev/admin/")
    assert response is not None and response.status == 404
    expect(page.get_by_text("manage.py demo")).to_be_visible()


def test_expired_document_token_bounces_back_through_the_frame(
    page: Page, base_url: str, klaviyo_sandbox: Any
) -> None:
    page.goto(base_url + "/dev/admin/")
    app = page.frame_locator("#app-frame")
    expect(app.get_by_role("heading", name="Klaviyo is not connected")).to_be_visible()
    # The admin reloads the app without a (valid) token: /app/ → bounce → fresh token → /app/.
    page.locator("#app-frame").evaluate(
        "f => { f.src = '/app/?shop=demo-shop.myshopify.com&embedded=1&dev_frame=1'"
        "+ '&id_token=expired.token.value'; }")
    expect(app.get_by_role("heading", name="Klaviyo is not connected")).to_be_visible()
    frame = page.frame_locator("#app-frame").locator("body")
    expect(frame).to_contain_text("Subscribers")
    url = page.frames[1].url
    assert "/app/?" in url and "id_token=" in url and "expired.token.value" not in url


def test_bounce_outside_the_admin_explains_itself(page: Page, base_url: str) -> None:
    page.goto(base_url + "/app/")
    expect(page.get_by_text("runs inside your Shopify admin")).to_be_visible()
