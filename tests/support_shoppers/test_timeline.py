"""A support engineer answers "did this shopper get the alert, and if not why?" from one page.

Everything here happens the way it does in production: the catalog and the stock arrive as
Shopify-signed webhooks, shoppers sign up through the signed app proxy, the sync and the
fan-out are the workers' own jobs (in-process) against the Klaviyo sandbox, and the engineer
uses the staff pages over HTTP.
"""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt, SyncAttemptSubscription
from notifyme.restocks.models import RestockDelivery
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_create
from notifyme.support.explain import explain
from tests.factories import klaviyo_connect, variant_make
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import make_shop
from tests.support_shoppers.conftest import (
    SHOPPERS,
    Store,
    outcome_sentences,
    shopper_link,
    text_of,
)

pytestmark = pytest.mark.django_db


def test_a_shopper_alerted_in_a_batch_is_found_by_email_and_the_page_ends_sent(
    store: Store, admin_client: Client,
) -> None:
    ada = store.signup({"email": "Ada.Lovelace@Example.com", "marketing_consent": True,
                        "consent_text_version": "bis-v3"}, customer_id="777001")
    store.signup({"email": "grace@example.com"})
    store.signup({"email": "alan@example.com"})
    store.sync()
    restock = store.restock(5)
    assert (restock.sent, restock.total) == (3, 3)

    found = admin_client.get(SHOPPERS, {"q": "  ADA.LOVELACE@example.COM "})
    assert found.status_code == 200
    assert f"/support/shoppers/{ada.pk}/" in found.content.decode()

    page = admin_client.get(shopper_link(found.content.decode())).content.decode()
    text = text_of(page)
    # The call that sent the alert (after the sync's "Subscribed" events) carried all three.
    batch = SyncAttempt.objects.filter(shop=store.shop, operation="bulk_create_events").latest("id")
    carried = set(SyncAttemptSubscription.objects.filter(attempt=batch)
                  .values_list("subscription_id", flat=True))
    assert carried == set(Subscription.objects.values_list("pk", flat=True))
    assert "Klaviyo bulk_create_events (batch of 3) → 202" in text
    assert "POST /api/event-bulk-create-jobs" in text
    assert "Signed up for Linen Shirt — Large" in text
    assert "consent text version bis-v3" in text
    assert "Shopify webhook inventory_levels/update" in text
    assert f"Restock #{restock.pk}: back in stock (5 available)" in text
    assert "Back in Stock event accepted by Klaviyo" in text
    [sentence] = outcome_sentences(page)
    sent_at = RestockDelivery.objects.get(subscription=ada).sent_at
    assert sent_at is not None
    assert sentence.startswith(f"Sent at {sent_at:%Y-%m-%d %H:%M:%S} UTC")
    # One shopper's page shows the batch call, never the other shoppers it carried.
    assert "grace" not in page and "alan@" not in page


def test_a_profile_sync_refused_for_its_phone_shows_the_call_its_detail_and_the_fix(
    store: Store, admin_client: Client,
) -> None:
    sub = store.signup({"phone": "+1 415 555 0123", "sms_consent": True,
                        "sms_consent_text_version": "sms-v2"}, customer_id="4242")
    # By hand: signup validation would refuse this number; a record Klaviyo rejects is what
    # is tested.
    Subscription.objects.filter(pk=sub.pk).update(phone="+01415555012")
    store.sync()
    sub.refresh_from_db()
    assert sub.sync_state == Subscription.SyncState.FAILED

    for query in ("4242", "gid://shopify/Customer/4242"):
        found = admin_client.get(SHOPPERS, {"q": query})
        assert f"/support/shoppers/{sub.pk}/" in found.content.decode(), query
    page = admin_client.get(f"{SHOPPERS}{sub.pk}/").content.decode()
    text = text_of(page)
    failed = SyncAttempt.objects.filter(shop=store.shop, status_code=400).latest("id")
    assert failed.error_pointer.endswith("phone_number")
    assert "→ 400" in text
    assert "Invalid phone number format" in text  # Klaviyo's own detail
    assert failed.error_pointer in text
    fix = explain(source="klaviyo", kind="invalid_phone").fix
    assert f"Fix: {fix}" in text
    [sentence] = outcome_sentences(page)
    assert sentence.startswith("Not sent because Linen Shirt — Large has not come back in stock")
    assert "profile sync failed" in sentence and "Invalid phone number format" in sentence
    assert page.count(f"Fix: {fix}") >= 2  # on the call and under the outcome


def test_an_alert_held_by_a_revoked_key_says_so_with_the_fix(
    store: Store, admin_client: Client,
) -> None:
    sub = store.signup({"email": "edsger@example.com"})
    store.sync()
    store.sandbox.admin.revoke_key(store.klaviyo.key)
    restock = store.restock(3)
    connection = KlaviyoConnection.objects.get(shop=store.shop)
    assert connection.status == KlaviyoConnection.Status.NEEDS_ATTENTION
    assert RestockDelivery.objects.get(restock=restock).state == RestockDelivery.State.PENDING

    page = admin_client.get(f"{SHOPPERS}{sub.pk}/").content.decode()
    text = text_of(page)
    assert "→ 401" in text
    [sentence] = outcome_sentences(page)
    invalid_key = explain(source="klaviyo", kind="invalid_key")
    assert sentence.startswith(f"Not sent yet because restock #{restock.pk} is waiting for "
                               "the shop's Klaviyo sync, which is paused")
    assert f"Fix: {invalid_key.fix}" in text


def test_an_outage_during_the_restock_shows_the_failed_call_and_the_next_try(
    store: Store, admin_client: Client,
) -> None:
    sub = store.signup({"email": "barbara@example.com"})
    store.sync()
    store.sandbox.admin.set_faults(store.klaviyo.account_id, next_errors=[503])
    restock = store.restock(2, drain=False)
    delivery = RestockDelivery.objects.get(restock=restock)
    assert delivery.state == RestockDelivery.State.PENDING and delivery.attempts == 1

    page = admin_client.get(f"{SHOPPERS}{sub.pk}/").content.decode()
    text = text_of(page)
    assert "Klaviyo create_event → 503" in text
    assert f"Fix: {explain(source='klaviyo', kind='unavailable').fix}" in text
    [sentence] = outcome_sentences(page)
    assert sentence.startswith(f"Not sent yet because restock #{restock.pk} has it queued; "
                               f"next try at {delivery.available_at:%Y-%m-%d %H:%M:%S} UTC")


def test_one_page_joins_the_shoppers_alerts_across_shops(
    store: Store, admin_client: Client, klaviyo_sandbox: SandboxHandle,
) -> None:
    here = store.signup({"email": "ada@example.com"})
    other = make_shop("other-shop.myshopify.com", name="Other Shop")
    klaviyo_connect(other, klaviyo_sandbox)
    there, _ = subscription_create(shop=other, variant=variant_make(other),
                                   email="ada@example.com")
    stranger = store.signup({"email": "grace@example.com"})

    page = admin_client.get(f"{SHOPPERS}{here.pk}/").content.decode()
    assert 'data-shop="demo-shop.myshopify.com"' in page
    assert 'data-shop="other-shop.myshopify.com"' in page
    assert f'data-subscription="{there.pk}"' in page
    assert f'data-subscription="{stranger.pk}"' not in page
    assert len(outcome_sentences(page)) == 2
