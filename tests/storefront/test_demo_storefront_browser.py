"""The shopper's whole flow in a real headless Chromium: demo page → block → proxy stand-in →
the real /proxy/subscribe → a Subscription row.

Playwright drives Debian's /usr/bin/chromium (scripts/ensure-chromium.sh installs it; Playwright
never downloads a browser here). The live server runs in a thread of this process, so the test
reads the rows it wrote directly.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, Route, expect

from notifyme.dev.theme_block import block_defaults, locale_strings
from notifyme.subscriptions.models import Subscription

pytestmark = pytest.mark.browser

SHIRT = "/dev/storefront/products/linen-camp-shirt"
SHIRT_FR = "/dev/fr/storefront/products/linen-camp-shirt"  # the French market
SMALL, MEDIUM, X_LARGE = 45_120_000_000_011, 45_120_000_000_012, 45_120_000_000_014
NOTIFY = "Notify me when available"
DAWN_PUBSUB = """
const PUB_SUB_EVENTS = { cartUpdate: 'cart-update', variantChange: 'variant-change' };
let subscribers = {};
function subscribe(eventName, callback) {
  if (subscribers[eventName] === undefined) subscribers[eventName] = [];
  subscribers[eventName] = [...subscribers[eventName], callback];
  return function unsubscribe() {
    subscribers[eventName] = subscribers[eventName].filter((cb) => cb !== callback);
  };
}
function publish(eventName, data) {
  if (subscribers[eventName]) subscribers[eventName].forEach((callback) => callback(data));
}
"""


@pytest.fixture
def base_url(browser: Browser, live_server, transactional_db) -> str:
    call_command("demo", stdout=io.StringIO())
    return live_server.url


def _choose(page: Page, variant_id: int) -> None:
    page.locator(f'label[for="variant-{variant_id}"]').click()


def test_shopper_subscribes_to_a_sold_out_variant(page: Page, base_url: str) -> None:
    page.goto(base_url + SHIRT)
    notify = page.get_by_role("button", name=NOTIFY)
    expect(page.locator("#add-to-cart")).to_be_enabled()
    expect(notify).to_be_hidden()  # Small is in stock

    _choose(page, MEDIUM)
    expect(notify).to_be_visible()
    expect(page).to_have_url(f"{base_url}{SHIRT}?variant={MEDIUM}")
    notify.click()

    dialog = page.get_by_role("dialog", name="Get notified when it's back")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Linen Camp Shirt — Medium · $68.00")
    email = dialog.get_by_label("Email", exact=True)
    expect(email).to_be_focused()

    email.fill("shopper@example")
    dialog.get_by_role("button", name="Notify me", exact=True).click()
    error = dialog.locator(f"#{email.get_attribute('aria-describedby')}")
    expect(error).to_have_text("Enter a valid email address.")
    expect(error).to_be_visible()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    assert not Subscription.objects.exists()

    email.fill("shopper@example.com")
    dialog.get_by_label(locale_strings()["consent"]).check()
    dialog.get_by_role("button", name="Notify me", exact=True).click()
    expect(dialog.get_by_role("status")).to_contain_text(
        "We'll email you when Linen Camp Shirt — Medium is back in stock.")
    expect(email).not_to_have_attribute("aria-invalid", "true")

    subscription = Subscription.objects.get()
    assert subscription.variant.shopify_id == MEDIUM
    assert subscription.email == "shopper@example.com"
    assert subscription.shop.domain == "demo-shop.myshopify.com"
    assert subscription.marketing_consent is True
    assert subscription.consent_text_version == block_defaults()["consent_text_version"]
    assert subscription.locale == "en"
    assert subscription.source == Subscription.Source.STOREFRONT

    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    expect(notify).to_be_focused()


def test_button_follows_the_variant_picker_url_and_events(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}{SHIRT}?variant={X_LARGE}")
    notify = page.get_by_role("button", name=NOTIFY)
    expect(notify).to_be_visible()
    _choose(page, SMALL)
    expect(notify).to_be_hidden()
    # A theme that only rewrites ?variant= (Dawn does) ...
    page.evaluate(f"history.replaceState(null, '', '?variant={MEDIUM}')")
    expect(notify).to_be_visible()
    # ... or announces the change with an event.
    page.evaluate(f"document.dispatchEvent(new CustomEvent('variant:change', "
                  f"{{detail: {{variant: {{id: {SMALL}}}}}}}))")
    expect(notify).to_be_hidden()

    # Untracked stock and "continue selling" variants can be bought: no alert offered.
    page.goto(f"{base_url}/dev/storefront/products/merino-crew-socks?variant=45120000000023")
    expect(page.get_by_role("button", name=NOTIFY)).to_be_hidden()
    page.goto(f"{base_url}/dev/storefront/products/waxed-canvas-tote?variant=45120000000033")
    expect(page.get_by_role("button", name=NOTIFY)).to_be_hidden()
    _choose(page, 45_120_000_000_032)
    expect(page.get_by_role("button", name=NOTIFY)).to_be_visible()


def test_button_follows_dawns_pub_sub_variant_change(page: Page, base_url: str) -> None:
    """Dawn announces a variant through its pubsub.js globals, not a DOM event."""

    def with_dawns_pubsub(route: Route) -> None:
        # Dawn's constants.js + pubsub.js (assets/), classic scripts in the theme's <head>.
        response = route.fetch()
        body = response.text().replace("</head>", f"<script>{DAWN_PUBSUB}</script></head>", 1)
        route.fulfill(response=response, body=body)

    page.route(f"**{SHIRT}", with_dawns_pubsub)
    page.goto(f"{base_url}{SHIRT}")
    notify = page.get_by_role("button", name=NOTIFY)
    expect(notify).to_be_hidden()
    publish = "v => publish('variant-change', {data: {sectionId: 'main', variant: {id: v}}})"
    page.evaluate(publish, X_LARGE)
    expect(notify).to_be_visible()
    page.evaluate(publish, SMALL)
    expect(notify).to_be_hidden()
    page.evaluate(publish, 999)  # another product's variant (a featured product section)
    expect(notify).to_be_hidden()
    page.evaluate(publish, MEDIUM)
    expect(notify).to_be_visible()
    # The submission names the variant whose form is open.
    notify.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Email", exact=True).fill("dawn@example.com")
    dialog.get_by_role("button", name="Notify me", exact=True).click()
    expect(dialog.get_by_role("status")).to_contain_text("We'll email you")
    assert Subscription.objects.get().variant.shopify_id == MEDIUM


def test_a_re_rendered_block_starts_too(page: Page, base_url: str) -> None:
    """Themes that swap the product section's HTML on a variant change bring a fresh block."""
    page.goto(f"{base_url}{SHIRT}?variant={MEDIUM}")
    expect(page.get_by_role("button", name=NOTIFY)).to_be_visible()
    page.evaluate("""() => {
        const old = document.querySelector('[data-notifyme]');
        const fresh = old.cloneNode(false);  // the server's markup: attributes + the JSON
        fresh.append(old.querySelector('script').cloneNode(true));
        old.replaceWith(fresh);
    }""")
    expect(page.get_by_role("button", name=NOTIFY)).to_have_count(1)
    expect(page.get_by_role("button", name=NOTIFY)).to_be_visible()


def test_french_market_page_speaks_french_and_posts_under_the_locale_prefix(
    page: Page, base_url: str
) -> None:
    fr = locale_strings("fr")
    page.goto(f"{base_url}{SHIRT_FR}?variant={SMALL}")
    notify = page.get_by_role("button", name=fr["button"])
    expect(notify).to_be_hidden()
    _choose(page, MEDIUM)  # sold out
    expect(notify).to_be_visible()
    _choose(page, SMALL)
    expect(notify).to_be_hidden()
    _choose(page, X_LARGE)
    notify.click()

    dialog = page.get_by_role("dialog", name=fr["heading"])
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Linen Camp Shirt — X-Large · 62,56 €")
    expect(dialog).to_contain_text(fr["intro"])
    expect(dialog.get_by_label(fr["consent"])).not_to_be_checked()
    dialog.get_by_label(fr["email"], exact=True).fill("client@example.fr")
    with page.expect_request("**/subscribe") as posted:
        dialog.get_by_role("button", name=fr["submit"], exact=True).click()
    assert posted.value.url == f"{base_url}/dev/fr/apps/notifyme/subscribe"
    assert posted.value.post_data_json["locale"] == "fr"
    assert posted.value.post_data_json["variant_id"] == X_LARGE
    expect(dialog.get_by_role("status")).to_have_text(
        fr["subscribed"].replace("{item}", "Linen Camp Shirt — X-Large"))
    expect(dialog.get_by_role("button", name=fr["done"])).to_be_focused()

    subscription = Subscription.objects.get()
    assert (subscription.locale, subscription.variant.shopify_id) == ("fr", X_LARGE)


def test_form_works_from_the_keyboard(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}{SHIRT}?variant={MEDIUM}")
    notify = page.get_by_role("button", name=NOTIFY)
    notify.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Email", exact=True)).to_be_focused()

    # The honeypot is out of sight and out of the tab order.
    honeypot = dialog.locator("input[name=website]")
    expect(honeypot).to_have_attribute("tabindex", "-1")
    expect(honeypot).to_have_attribute("autocomplete", "off")
    box = honeypot.bounding_box()
    assert box is None or box["x"] + box["width"] <= 0
    dialog.get_by_label(locale_strings()["sms_consent"]).focus()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Notify me", exact=True)).to_be_focused()

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(notify).to_be_focused()


def test_general_errors_rate_limit_and_network(page: Page, base_url: str, settings) -> None:
    settings.SUBSCRIBE_RATE_PER_IP = 1
    settings.SUBSCRIBE_RATE_PER_IP_WINDOW_SECONDS = 10**9  # fixed window: never crossed mid-test
    page.goto(f"{base_url}{SHIRT}?variant={MEDIUM}")
    page.get_by_role("button", name=NOTIFY).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Email", exact=True).fill("first@example.com")
    dialog.get_by_role("button", name="Notify me", exact=True).click()
    expect(dialog.get_by_role("status")).to_contain_text("We'll email you")
    dialog.get_by_role("button", name="Done").click()

    _choose(page, X_LARGE)
    page.get_by_role("button", name=NOTIFY).click()
    dialog.get_by_label("Email", exact=True).fill("second@example.com")
    dialog.get_by_role("button", name="Notify me", exact=True).click()
    expect(dialog.get_by_role("status")).to_contain_text("Too many attempts. Please try again in")
    assert Subscription.objects.count() == 1

    page.route("**/dev/apps/notifyme/subscribe", lambda route: route.abort())
    dialog.get_by_role("button", name="Notify me", exact=True).click()
    expect(dialog.get_by_role("status")).to_have_text(
        "We couldn't reach the store. Check your connection and try again.")
    expect(dialog.get_by_role("button", name="Notify me", exact=True)).to_be_enabled()


def test_email_and_sms_consent_are_separate_and_start_unticked_every_time(
    page: Page, base_url: str
) -> None:
    defaults = block_defaults()
    texts = locale_strings()
    page.goto(f"{base_url}{SHIRT}?variant={MEDIUM}")
    notify = page.get_by_role("button", name=NOTIFY)
    notify.click()
    dialog = page.get_by_role("dialog")
    email_box = dialog.get_by_label(texts["consent"])
    sms_box = dialog.get_by_label(texts["sms_consent"])
    expect(email_box).not_to_be_checked()
    expect(sms_box).not_to_be_checked()
    assert "Reply STOP to cancel, HELP for help" in texts["sms_consent"]

    # SMS consent without a phone: the server's message shows next to the SMS box.
    dialog.get_by_label("Email", exact=True).fill("pat@example.com")
    sms_box.check()
    dialog.get_by_role("button", name="Notify me", exact=True).click()
    expect(dialog.locator(f"#{sms_box.get_attribute('aria-describedby')}")).to_have_text(
        "Needs a phone number.")
    expect(sms_box).not_to_be_checked()  # every submit unticks: the shopper ticks again
    assert not Subscription.objects.exists()

    dialog.get_by_label("Phone (optional, for a text)").fill("(415) 555-2671")
    email_box.check()
    sms_box.check()
    dialog.get_by_role("button", name="Notify me", exact=True).click()
    expect(dialog.get_by_role("status")).to_contain_text("We'll email and text you")
    sub = Subscription.objects.get()
    assert (sub.marketing_consent, sub.consent_text_version) == (
        True, defaults["consent_text_version"])
    assert (sub.sms_consent, sub.sms_consent_text_version) == (
        True, defaults["sms_consent_text_version"])
    dialog.get_by_role("button", name="Done").click()

    # The next person on this device opens the form: nothing of the last signup is left.
    _choose(page, X_LARGE)
    notify.click()
    expect(email_box).not_to_be_checked()
    expect(sms_box).not_to_be_checked()
    expect(dialog.get_by_label("Email", exact=True)).to_have_value("")
    dialog.get_by_label("Email", exact=True).fill("next@example.com")
    dialog.get_by_role("button", name="Notify me", exact=True).click()
    expect(dialog.get_by_role("status")).to_contain_text("We'll email you")
    latest = Subscription.objects.get(email="next@example.com")
    assert not latest.marketing_consent and not latest.sms_consent

    # Ticked, then the page is left and shown again: unticked.
    page.keyboard.press("Escape")
    notify.click()
    email_box.check()
    page.goto(base_url + "/dev/storefront/")
    page.go_back()
    page.get_by_role("button", name=NOTIFY).click()
    expect(page.get_by_role("dialog").get_by_label(texts["consent"])).not_to_be_checked()


@pytest.mark.skipif(not os.environ.get("NOTIFYME_SCREENSHOTS"), reason="set NOTIFYME_SCREENSHOTS")
def test_screenshot_of_the_open_form(page: Page, base_url: str) -> None:
    """Opt-in: saves the product page with the form open to $NOTIFYME_SCREENSHOTS/."""
    page.goto(f"{base_url}{SHIRT}?variant={MEDIUM}")
    page.get_by_role("button", name=NOTIFY).click()
    page.screenshot(path=str(Path(os.environ["NOTIFYME_SCREENSHOTS"]) / "demo-form-open.png"))


def test_a_mistyped_email_domain_gets_a_one_click_fix(page: Page, base_url: str) -> None:
    """"jane@gmial.con": the first submission stops to offer the likely address; one click
    puts it in the field. A shopper who means the odd address sends it on the second try."""
    page.goto(f"{base_url}{SHIRT}?variant={MEDIUM}")
    page.get_by_role("button", name=NOTIFY).click()
    dialog = page.get_by_role("dialog")
    email = dialog.get_by_label("Email", exact=True)
    submit = dialog.get_by_role("button", name="Notify me", exact=True)

    email.fill("jane@gmial.con")
    submit.click()
    fix = dialog.get_by_role("button", name="jane@gmail.com")
    expect(dialog.locator(".nm-hint")).to_have_text("Did you mean jane@gmail.com?")
    expect(fix).to_be_focused()
    assert not Subscription.objects.exists()  # nothing sent yet
    fix.click()
    expect(email).to_have_value("jane@gmail.com")
    expect(dialog.locator(".nm-hint")).to_be_hidden()
    submit.click()
    expect(dialog.get_by_role("status")).to_contain_text("We'll email you")
    assert Subscription.objects.get().email == "jane@gmail.com"

    dialog.get_by_role("button", name="Done").click()
    page.get_by_role("button", name=NOTIFY).click()
    email.fill("odd@acme.con")
    email.press("Tab")  # leaving the field shows the hint too
    expect(dialog.locator(".nm-hint")).to_have_text("Did you mean odd@acme.com?")
    submit.click()  # the first submission of an address with a hint stops at the hint
    expect(dialog.get_by_role("button", name="odd@acme.com")).to_be_focused()
    assert not Subscription.objects.filter(email="odd@acme.con").exists()
    submit.click()  # the shopper saw it and means it: the second one goes through
    expect(dialog.get_by_role("status")).to_contain_text("We'll email you")
    assert Subscription.objects.filter(email="odd@acme.con").exists()
