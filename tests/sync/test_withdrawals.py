"""Unsubscribe and redaction reach Klaviyo; a withdrawal never races an earlier subscribe."""

from __future__ import annotations

from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import (
    subscription_create,
    subscription_redact,
    subscription_unsubscribe,
)
from notifyme.sync import engine
from notifyme.sync.consent_out import REDACT_NOTE
from notifyme.sync.models import OutboxItem

from .conftest import Merchant, drain


def _synced(merchant: Merchant, **fields: object) -> Subscription:
    sub, _ = subscription_create(shop=merchant.shop, variant=merchant.variant,
                                 marketing_consent=True, **fields)
    engine.run_shop(merchant.shop.pk, "sync")
    sub.refresh_from_db()
    assert sub.sync_state == "synced"
    return sub


def test_unsubscribe_withdraws_email_and_sms_consent(merchant: Merchant) -> None:
    sub = _synced(merchant, email="ivy@shop.test", phone="+14155550142")
    assert len(merchant.admin.subscriptions(merchant.account_id)) == 2
    subscription_unsubscribe(subscription=sub)
    engine.run_shop(merchant.shop.pk, "sync")
    sub.refresh_from_db()
    assert sub.sync_state == "synced"
    assert merchant.admin.subscriptions(merchant.account_id) == []
    gone = merchant.admin.unsubscriptions(merchant.account_id)
    assert {(u["channel"], u["list_id"]) for u in gone} == {("email", merchant.list_id),
                                                           ("sms", merchant.list_id)}
    item = OutboxItem.objects.get(subscription=sub, kind="unsubscribe")
    assert item.state == "done"


def test_redaction_unsubscribes_through_the_profile_id_and_notes_deletion(
    merchant: Merchant,
) -> None:
    sub = _synced(merchant, email="jo@shop.test")
    subscription_redact(subscription=sub)
    engine.run_shop(merchant.shop.pk, "sync")
    sub.refresh_from_db()
    assert sub.email == "" and sub.sync_state == "synced"
    assert sub.sync_error == REDACT_NOTE  # support files the profile deletion in Klaviyo
    assert merchant.admin.subscriptions(merchant.account_id) == []
    [gone] = merchant.admin.unsubscriptions(merchant.account_id)
    assert gone["email"] == "jo@shop.test"


def test_redaction_of_a_never_synced_subscriber_sends_nothing(merchant: Merchant) -> None:
    sub, _ = subscription_create(shop=merchant.shop, variant=merchant.variant,
                                 email="kim@shop.test", marketing_consent=True)
    subscription_redact(subscription=sub)
    drain(merchant.shop.pk, lane="sync")
    assert merchant.admin.requests(merchant.account_id) == []
    assert set(OutboxItem.objects.filter(subscription=sub).values_list("state", flat=True)) == {
        "done"}


def test_unsubscribe_waits_for_an_unfinished_earlier_sync(merchant: Merchant) -> None:
    sub, _ = subscription_create(shop=merchant.shop, variant=merchant.variant,
                                 email="lee@shop.test", marketing_consent=True)
    profile_row = OutboxItem.objects.get(subscription=sub)
    OutboxItem.objects.filter(pk=profile_row.pk).update(state=OutboxItem.State.WAITING)
    subscription_unsubscribe(subscription=sub)
    engine.run_shop(merchant.shop.pk, "sync")
    withdrawal = OutboxItem.objects.get(subscription=sub, kind="unsubscribe")
    assert withdrawal.state == "pending" and withdrawal.attempts == 0
    assert merchant.admin.unsubscriptions(merchant.account_id) == []
