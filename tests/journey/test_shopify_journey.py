"""The Shopify half end to end, with real processes and no app row made by hand.

A shop exists only in the Shopify stand-in. The merchant opens the embedded app with an ID token
the stand-in minted; token exchange installs the shop and the initial catalog sync reads the
catalog over the stand-in's Admin GraphQL; the merchant connects Klaviyo; shoppers subscribe
through Shopify-signed proxy requests; the stand-in raises stock, which reaches the app only as
signed `inventory_levels/update` webhooks (or, when one is dropped, through reconciliation).
Every Klaviyo-side check goes through the sandbox's inspection API. Processes: web
(`runserver`), an RQ worker on sync/bulk/default with its scheduler, the sweeper
(tests/journey/shopify_stack.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from notifyme.privacy.models import ComplianceRequest
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.webhooks.models import WebhookEvent
from tests.fixtures.shopify_standin import StandinHandle
from tests.journey.shopify_stack import ShopifyStack, StandinMerchant, database_text, redis_text
from tests.journey.test_journey import Storefront

pytestmark = [pytest.mark.chaos, pytest.mark.journey, pytest.mark.django_db(transaction=True)]

SHOP = "harbour-goods.myshopify.com"
BACK_IN_STOCK = "Back in Stock"
# Reconciliation every 3 s (the gate's TTL) instead of 15 minutes; fast restock leases.
FAST = {"CATALOG_RECONCILE_MINUTES": "0.05", "RESTOCK_LEASE_SECONDS": "5",
        "RESTOCK_ALIVE_SECONDS": "2", "LOG_LEVEL": "INFO"}
FIRST = ("ada@harbour.test", "grace@harbour.test")  # wait for the first variant
SECOND = ("alan@harbour.test", "edsger@harbour.test")  # wait for the second


@pytest.fixture
def stack(shopify_standin: StandinHandle, klaviyo_sandbox: Any) -> Iterator[ShopifyStack]:
    running = ShopifyStack(standin_url=shopify_standin.url, **FAST)
    shopify_standin.admin.config(app_url=running.url)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def _shop_in_standin(standin: StandinHandle) -> dict[str, Any]:
    """A shop with two locations and a jacket whose Small and Medium are sold out."""
    admin = standin.admin
    admin.create_shop(SHOP, name="Harbour Goods", email="owner@harbour.example")
    admin.add_location(SHOP, "Pop-up stall", fulfills_online_orders=False)
    return admin.add_product(SHOP, "Rain Jacket", variants=[
        {"title": "Small", "sku": "RJ-S", "price": "89.00", "stock": 0},
        {"title": "Medium", "sku": "RJ-M", "price": "89.00", "stock": 0},
        {"title": "Large", "sku": "RJ-L", "price": "89.00", "stock": 4}], notify=False)


def _install_connect_subscribe(stack: ShopifyStack, standin: StandinHandle, sandbox: Any,
                               product: dict[str, Any]) -> tuple[StandinMerchant, str]:
    """Steps every journey shares; returns the merchant and the Klaviyo account id."""
    merchant = StandinMerchant(stack.url, standin.admin, SHOP)
    page = merchant.open_app()
    assert page.status_code == 200, page.text[:2000]
    shop = Shop.objects.get(domain=SHOP)
    assert shop.state == Shop.State.INSTALLED and shop.get_refresh_token()
    assert standin.admin.tokens(SHOP)["token_exchanges"] == 1
    stack.wait(lambda: merchant.catalog_sync().get("state") == "succeeded",
               "the initial catalog sync never finished")
    sync = merchant.catalog_sync()
    assert sync["reason"] == "install", sync

    account, key = sandbox.new_account("Harbour Goods Klaviyo")
    connected = merchant.call("POST", "klaviyo/connect", {"private_key": key})
    assert connected.status_code == 200, connected.text
    assert connected.json()["status"] == "connected"

    store = Storefront(stack.url, SHOP)
    small, medium = product["variant_ids"][:2]
    for variant, emails in ((small, FIRST), (medium, SECOND)):
        for email in emails:
            body = {"variant_id": variant, "email": email, "marketing_consent": True,
                    "consent_text_version": "v1"}
            response = store.post(store.url("subscribe"), json=body)
            assert response.status_code == 201, response.text
    stack.wait(lambda: not Subscription.objects.exclude(sync_state="synced").exists(),
               "the subscribers never synced")
    profiles = {p["email"] for p in sandbox.admin.profiles(account["id"])}
    assert set(FIRST + SECOND) <= profiles
    return merchant, account["id"]


def _bis_emails(sandbox: Any, account_id: str) -> Counter[str]:
    """"Back in Stock" events in Klaviyo, counted per subscriber email."""
    email_of = {p["id"]: p["email"] for p in sandbox.admin.profiles(account_id)}
    return Counter(email_of.get(e["profile_id"], e["profile_id"])
                   for e in sandbox.admin.events(account_id, metric=BACK_IN_STOCK))


def _restocked(merchant: StandinMerchant, count: int) -> bool:
    restocks = merchant.restocks()
    return len(restocks) >= count and all(r["state"] == "completed" for r in restocks)


def test_install_sync_subscribe_restock_duplicate_and_dropped_webhooks(
        stack: ShopifyStack, shopify_standin: StandinHandle, klaviyo_sandbox: Any) -> None:
    admin = shopify_standin.admin
    product = _shop_in_standin(shopify_standin)
    small_item, medium_item = product["inventory_item_ids"][:2]
    merchant, account_id = _install_connect_subscribe(stack, shopify_standin, klaviyo_sandbox,
                                                      product)
    assert _bis_emails(klaviyo_sandbox, account_id) == Counter()

    # 1. Small back to 5 at the main warehouse, every webhook delivered twice (same id).
    admin.set_switches(duplicates=True)
    admin.set_stock(SHOP, small_item, None, 5)
    assert admin.wait_webhooks(timeout=30)
    delivered = [d for d in admin.webhook_log(SHOP) if d["topic"] == "inventory_levels/update"]
    assert len({d["webhook_id"] for d in delivered}) == 1
    assert len(delivered) == 2 and {d["state"] for d in delivered} == {"delivered"}, delivered
    webhook_id = delivered[0]["webhook_id"]
    stack.wait(lambda: _bis_emails(klaviyo_sandbox, account_id) == Counter(FIRST)
               and _restocked(merchant, 1), "the first restock never reached Klaviyo")
    assert WebhookEvent.objects.filter(webhook_id=webhook_id).count() == 1
    stack.wait(lambda: not WebhookEvent.objects.exclude(state="processed").exists(),
               "the webhook events were never processed")
    assert _bis_emails(klaviyo_sandbox, account_id) == Counter(FIRST)
    assert len(merchant.restocks()) == 1

    # 2. Medium back to 5, but Shopify loses the webhook: reconciliation (scheduled by the
    #    real sweeper) reads the level and the restock goes out exactly as the webhook's would.
    admin.set_switches(duplicates=False, drop=True)
    admin.set_stock(SHOP, medium_item, None, 5)
    assert admin.wait_webhooks(timeout=30)
    lost = [d for d in admin.webhook_log(SHOP) if d["topic"] == "inventory_levels/update"][-1]
    assert lost["state"] == "dropped", lost
    assert not WebhookEvent.objects.filter(webhook_id=lost["webhook_id"]).exists()
    stack.wait(lambda: _bis_emails(klaviyo_sandbox, account_id) == Counter(FIRST + SECOND)
               and _restocked(merchant, 2), "reconciliation never caught the dropped webhook")
    assert max(_bis_emails(klaviyo_sandbox, account_id).values()) == 1
    assert WebhookEvent.objects.count() == 1  # the duplicate made no second row


def _nothing_of(stack: ShopifyStack, *traces: str) -> None:
    """No trace of a shopper (email, Klaviyo profile id) in the database, Redis or the logs of
    the web, worker and sweeper processes."""
    places = {"database": database_text().lower(), "redis": redis_text().lower(),
              "logs": stack.logs().lower()}
    found = {(trace, where) for trace in traces for where, text in places.items()
             if trace.lower() in text}
    assert not found, found


def _settled() -> bool:
    return not WebhookEvent.objects.exclude(state="processed").exists()


def test_uninstall_holds_reinstall_resumes_and_redaction_leaves_nothing(
        stack: ShopifyStack, shopify_standin: StandinHandle, klaviyo_sandbox: Any) -> None:
    admin, sandbox = shopify_standin.admin, klaviyo_sandbox.admin
    product = _shop_in_standin(shopify_standin)
    small_item = product["inventory_item_ids"][0]
    merchant, account_id = _install_connect_subscribe(stack, shopify_standin, klaviyo_sandbox,
                                                      product)
    first = Shop.objects.get(domain=SHOP)
    old_access, old_installed_at = first.get_access_token(), first.installed_at
    profile_of = {p["email"]: p["id"] for p in sandbox.profiles(account_id)}
    held_shopper, later_shopper = FIRST[0], SECOND[0]

    # 1. The merchant uninstalls: the app stops the shop and forgets its tokens.
    admin.uninstall(SHOP)
    stack.wait(lambda: Shop.objects.get(domain=SHOP).state == Shop.State.UNINSTALLED,
               "app/uninstalled never marked the shop")
    stack.wait(_settled, "app/uninstalled was never processed")
    calls = len(sandbox.requests(account_id))

    # 2. While uninstalled, Shopify asks to erase a shopper: erased here, the Klaviyo part held.
    admin.send_webhook(SHOP, "customers/redact", {"customer": {"id": 4242, "email": held_shopper}})
    stack.wait(lambda: ComplianceRequest.objects.filter(
        topic="customers/redact", klaviyo_outcome="held").exists(),
        "the redaction was never held")
    stack.wait(_settled, "customers/redact was never processed")
    assert not Subscription.objects.filter(email=held_shopper).exists()
    assert len(sandbox.requests(account_id)) == calls, "a Klaviyo call for an uninstalled shop"

    # 3. Reinstall: the admin opens the app again; a new token exchange, a clean install.
    page = merchant.open_app()
    assert page.status_code == 200, page.text[:2000]
    again = Shop.objects.get(domain=SHOP)
    assert again.state == Shop.State.INSTALLED and again.installed_at > old_installed_at
    assert admin.tokens(SHOP)["token_exchanges"] == 2
    assert again.get_access_token() and again.get_access_token() != old_access
    # The held Klaviyo erasure goes out now.
    stack.wait(lambda: any(profile_of[held_shopper] in d["profile_ids"]
                           for d in sandbox.deletions(account_id)),
               "the held Klaviyo erasure never went out after the reinstall")
    stack.wait(lambda: ComplianceRequest.objects.filter(
        topic="customers/redact", state="completed").exists(),
        "the redaction never completed")

    # 4. The waitlist is where it was: a restock reaches the remaining subscriber of Small.
    admin.set_stock(SHOP, small_item, None, 5)
    stack.wait(lambda: _bis_emails(klaviyo_sandbox, account_id) == Counter(FIRST[1:]),
               "the restock after the reinstall never reached Klaviyo")

    # 5. A second shopper's erasure while installed (the usual case): gone at once, here and
    #    in Klaviyo.
    admin.send_webhook(SHOP, "customers/redact",
                       {"customer": {"id": 4343, "email": later_shopper}})
    stack.wait(lambda: ComplianceRequest.objects.filter(
        topic="customers/redact", state="completed").count() == 2,
        "the second redaction never completed")
    stack.wait(_settled, "customers/redact was never processed")
    assert any(profile_of[later_shopper] in d["profile_ids"] for d in sandbox.deletions(account_id))
    audits = ComplianceRequest.objects.filter(shop_domain=SHOP, topic="customers/redact")
    assert audits.count() == 2 and all(a.counts for a in audits)
    for shopper in (held_shopper, later_shopper):
        _nothing_of(stack, shopper, profile_of[shopper])
    assert Subscription.objects.filter(email__in=(FIRST[1], SECOND[1])).count() == 2
    assert FIRST[1] in database_text()  # the scan does see what is kept
