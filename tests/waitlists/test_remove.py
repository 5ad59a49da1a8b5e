"""Removing a subscriber from the page: the alert ends through the shopper's own unsubscribe
service, and Klaviyo (the sandbox, through the real client) loses them from the list only
once no alert of theirs is left."""

from __future__ import annotations

from django.test import Client

from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_create
from notifyme.sync import engine
from notifyme.sync.models import OutboxItem
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import make_variant
from tests.sync.conftest import make_merchant
from tests.waitlists.conftest import Merchant


def test_remove_takes_the_shopper_off_the_klaviyo_list(
    client: Client, db: None, klaviyo_sandbox: SandboxHandle,
) -> None:
    connected = make_merchant(klaviyo_sandbox)
    page = Merchant(client, connected.shop)
    sub, _ = subscription_create(shop=connected.shop, variant=connected.variant,
                                 email="ivy@shop.test", marketing_consent=True,
                                 consent_text_version="v1")
    engine.run_shop(connected.shop.pk, "sync")
    sub.refresh_from_db()
    assert sub.sync_state == "synced"
    assert connected.members() == [sub.klaviyo_profile_id]

    response = page.remove(sub.pk)
    assert response.status_code == 200
    body = response.json()
    assert body["removed"] is True
    assert body["subscriber"]["status"] == "unsubscribed"
    assert body["subscriber"]["removable"] is False
    engine.run_shop(connected.shop.pk, "sync")
    sub.refresh_from_db()
    assert sub.status == "unsubscribed" and sub.unsubscribed_at is not None
    assert sub.sync_state == "synced"
    assert connected.members() == []
    assert sub.marketing_consent  # removing an alert is not a marketing unsubscribe
    assert connected.admin.unsubscriptions(connected.account_id) == []

    again = page.remove(sub.pk)
    assert again.status_code == 200 and again.json()["removed"] is False
    assert OutboxItem.objects.filter(subscription=sub, kind="unsubscribe").count() == 1


def test_remove_keeps_the_shopper_listed_while_another_alert_waits(
    client: Client, db: None, klaviyo_sandbox: SandboxHandle,
) -> None:
    connected = make_merchant(klaviyo_sandbox)
    other = make_variant(connected.shop, shopify_id=4002, product_id=9002)
    first, _ = subscription_create(shop=connected.shop, variant=connected.variant,
                                   email="una@shop.test")
    second, _ = subscription_create(shop=connected.shop, variant=other, email="una@shop.test")
    engine.run_shop(connected.shop.pk, "sync")
    first.refresh_from_db()
    assert Merchant(client, connected.shop).remove(first.pk).json()["removed"] is True
    engine.run_shop(connected.shop.pk, "sync")
    assert connected.members() == [first.klaviyo_profile_id]
    assert Subscription.objects.get(pk=second.pk).status == "active"


def test_remove_of_an_unknown_id_is_404(merchant: Merchant) -> None:
    response = merchant.remove(999_999)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert merchant.client.get("/app/api/subscribers/1", **merchant.headers()).status_code == 405
