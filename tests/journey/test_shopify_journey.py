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
