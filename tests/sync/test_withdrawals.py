"""Cancelling an alert, unsubscribing from marketing and redaction reach Klaviyo as each should;
a withdrawal never races an earlier subscribe."""

from __future__ import annotations

from typing import Any

from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import (
    subscription_create,
    subscription_redact,
    subscription_unsubscribe,
)
from notifyme.sync import engine
from notifyme.sync.consent_out import REDACT_NOTE
from notifyme.sync.models import OutboxItem
from tests.fixtures.shopify import make_variant

from .conftest import Merchant, drain


def _synced(merchant: Merchant, **fields: Any) -> Subscription:
    sub, _ = subscription_create(shop=merchant.shop, variant=merchant.variant,
                                 marketing_consent=True, consent_text_version="v1", **fields)
    engine.run_shop(merchant.shop.pk, "sync")
    sub.refresh_from_db()
    assert sub.sync_state == "synced"
    return sub


def _consents(merchant: Merchant) -> set[tuple[str, str]]:
    return {(c["channel"], c["email"] or c["phone_number"])
            for c in merchant.admin.subscriptions(merchant.account_id)}


def test_cancelling_the_last_alert_leaves_the_list_and_keeps_consent(merchant: Merchant) -> None:
    sub = _synced(merchant, email="ivy@shop.test", phone="+14155550142", sms_consent=True)
    before = _consents(merchant)
    assert before == {("email", "ivy@shop.test"), ("sms", "ivy@shop.test")}
    assert merchant.members() == [sub.klaviyo_profile_id]
    subscription_unsubscribe(subscription=sub)
    engine.run_shop(merchant.shop.pk, "sync")
    sub.refresh_from_db()
    assert sub.sync_state == "synced"
    assert merchant.members() == []  # no alert left: off the merchant's list
    assert _consents(merchant) == before  # marketing consent untouched
    assert merchant.admin.unsubscriptions(merchant.account_id) == []
    paths = [(r["method"], r["path"]) for r in merchant.requests()]
    assert ("DELETE", f"/api/lists/{merchant.list_id}/relationships/profiles") in paths
    assert not [p for p in paths if "subscription-bulk-delete" in p[1]]
    item = OutboxItem.objects.get(subscription=sub, kind="unsubscribe")
    assert item.state == "done"


def test_cancelling_one_of_two_alerts_changes_nothing_in_klaviyo(merchant: Merchant) -> None:
    first = _synced(merchant, email="una@shop.test")
    other = make_variant(merchant.shop, shopify_id=4002, product_id=9002)
    second, _ = subscription_create(shop=merchant.shop, variant=other, email="una@shop.test",
                                    marketing_consent=True, consent_text_version="v1")
    engine.run_shop(merchant.shop.pk, "sync")
    before = _consents(merchant)
    sent = len(merchant.requests())
    subscription_unsubscribe(subscription=first)
    engine.run_shop(merchant.shop.pk, "sync")
    assert OutboxItem.objects.get(subscription=first, kind="unsubscribe").state == "done"
    assert len(merchant.requests()) == sent  # nothing to tell Klaviyo
    assert merchant.members() == [first.klaviyo_profile_id]
    assert _consents(merchant) == before == {("email", "una@shop.test")}
    second.refresh_from_db()
    assert second.status == "active" and second.marketing_consent


def test_explicit_marketing_unsubscribe_withdraws_email_and_sms_consent(
    merchant: Merchant,
) -> None:
    sub = _synced(merchant, email="ivy@shop.test", phone="+14155550142", sms_consent=True)
    subscription_unsubscribe(subscription=sub, marketing=True)
    engine.run_shop(merchant.shop.pk, "sync")
    sub.refresh_from_db()
    assert sub.sync_state == "synced" and sub.marketing_withdrawn_at is not None
    assert merchant.admin.subscriptions(merchant.account_id) == []
    gone = merchant.admin.unsubscriptions(merchant.account_id)
    assert {(u["channel"], u["list_id"]) for u in gone} == {("email", merchant.list_id),
                                                           ("sms", merchant.list_id)}
    assert merchant.members() == []
    item = OutboxItem.objects.get(subscription=sub, kind="unsubscribe")
    assert item.state == "done"


def test_marketing_unsubscribe_after_the_alert_ended_still_withdraws(merchant: Merchant) -> None:
    sub = _synced(merchant, email="vic@shop.test")
    subscription_unsubscribe(subscription=sub)
    engine.run_shop(merchant.shop.pk, "sync")
    assert _consents(merchant) == {("email", "vic@shop.test")}
    assert subscription_unsubscribe(subscription=sub, marketing=True)
    assert not subscription_unsubscribe(subscription=sub, marketing=True)  # nothing more to do
    engine.run_shop(merchant.shop.pk, "sync")
    assert merchant.admin.subscriptions(merchant.account_id) == []
    assert OutboxItem.objects.filter(subscription=sub, kind="unsubscribe", state="done"
                                     ).count() == 2


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
    assert merchant.requests() == []
    assert set(OutboxItem.objects.filter(subscription=sub).values_list("state", flat=True)) == {
        "done"}


def test_unsubscribe_waits_for_an_unfinished_earlier_sync(merchant: Merchant) -> None:
    sub, _ = subscription_create(shop=merchant.shop, variant=merchant.variant,
                                 email="lee@shop.test", marketing_consent=True)
    profile_row = OutboxItem.objects.get(subscription=sub)
    # By hand: the profile sync is parked on an unfinished bulk import job.
    OutboxItem.objects.filter(pk=profile_row.pk).update(state=OutboxItem.State.WAITING)
    subscription_unsubscribe(subscription=sub)
    engine.run_shop(merchant.shop.pk, "sync")
    withdrawal = OutboxItem.objects.get(subscription=sub, kind="unsubscribe")
    assert withdrawal.state == "pending" and withdrawal.attempts == 0
    assert merchant.admin.unsubscriptions(merchant.account_id) == []


def test_cancel_finds_the_profile_by_email_when_no_id_was_recorded(merchant: Merchant) -> None:
    sub = _synced(merchant, email="wes@shop.test")
    profile_id = sub.klaviyo_profile_id
    Subscription.objects.filter(pk=sub.pk).update(klaviyo_profile_id="")  # e.g. a bulk import
    assert merchant.members() == [profile_id]
    subscription_unsubscribe(subscription=sub)
    engine.run_shop(merchant.shop.pk, "sync")
    assert OutboxItem.objects.get(subscription=sub, kind="unsubscribe").state == "done"
    assert merchant.members() == []
    assert _consents(merchant) == {("email", "wes@shop.test")}


def test_cancel_after_the_list_was_deleted_halts_the_shop(merchant: Merchant) -> None:
    sub = _synced(merchant, email="xia@shop.test")
    merchant.admin.delete_list(merchant.account_id, merchant.list_id)
    subscription_unsubscribe(subscription=sub)
    assert engine.run_shop(merchant.shop.pk, "sync").get("halted") is True
    item = OutboxItem.objects.get(subscription=sub, kind="unsubscribe")
    assert item.state == OutboxItem.State.PENDING and item.attempts == 0


def test_cancel_with_a_profile_id_klaviyo_no_longer_knows_still_completes(
    merchant: Merchant,
) -> None:
    gone = _synced(merchant, email="yan@shop.test")
    kept = _synced_other(merchant, email="zed@shop.test")
    real_id = gone.klaviyo_profile_id
    # By hand: a profile deleted in Klaviyo since it was recorded.
    Subscription.objects.filter(pk=gone.pk).update(klaviyo_profile_id="01GONEGONEGONEGONEGONEGONE")
    subscription_unsubscribe(subscription=gone)
    subscription_unsubscribe(subscription=kept)
    engine.run_shop(merchant.shop.pk, "sync")
    rows = OutboxItem.objects.filter(kind="unsubscribe")
    assert set(rows.values_list("state", flat=True)) == {"done"}
    assert merchant.members() == [real_id]  # the other one left; this profile was unknown to us
    gone.refresh_from_db()
    assert "no longer exists" in gone.sync_error


def _synced_other(merchant: Merchant, **fields: Any) -> Subscription:
    other = make_variant(merchant.shop, shopify_id=4003, product_id=9003)
    sub, _ = subscription_create(shop=merchant.shop, variant=other, **fields)
    engine.run_shop(merchant.shop.pk, "sync")
    sub.refresh_from_db()
    return sub
