"""Identity edge cases on the one-by-one path, each against the sandbox over HTTP."""

from __future__ import annotations

from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.messages import sentence_for
from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt
from integrations.klaviyo.services import connection_list_set
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_create
from notifyme.sync import engine
from notifyme.sync.models import OutboxItem
from notifyme.sync.services import outbox_enqueue

from .conftest import Merchant


def _client(merchant: Merchant) -> KlaviyoClient:
    return KlaviyoClient(merchant.key)


def _profiles_by_email(merchant: Merchant) -> dict[str, dict]:
    return {p["email"]: p for p in merchant.admin.profiles(merchant.account_id) if p["email"]}


def _resync(sub: Subscription) -> None:
    outbox_enqueue(shop=sub.shop, subscription=sub, kind=OutboxItem.Kind.PROFILE_SYNC)


def test_duplicate_profile_syncs_by_email_and_notes_the_conflict(merchant: Merchant) -> None:
    client = _client(merchant)
    by_email = client.upsert_profile({"email": "dana@shop.test"}).data["id"]
    by_phone = client.upsert_profile({"phone_number": "+14155550199"}).data["id"]
    sub, _ = subscription_create(shop=merchant.shop, variant=merchant.variant,
                                 email="dana@shop.test", phone="+14155550199",
                                 marketing_consent=True, sms_consent=True)
    engine.run_shop(merchant.shop.pk, "sync")
    sub.refresh_from_db()
    assert sub.sync_state == Subscription.SyncState.SYNCED
    assert sub.klaviyo_profile_id == by_email
    assert "already belongs to another Klaviyo profile" in sub.sync_error
    item = OutboxItem.objects.get(subscription=sub)
    assert item.phone_issue == OutboxItem.PhoneIssue.CONFLICT
    # The phone stayed with its own profile; both channels' consent still got recorded.
    assert _profiles_by_email(merchant)["dana@shop.test"].get("phone_number") is None
    consents = {(c["profile_id"], c["channel"])
                for c in merchant.admin.subscriptions(merchant.account_id)}
    assert consents == {(by_email, "email"), (by_phone, "sms")}
    codes = list(SyncAttempt.objects.filter(subscription_id=sub.pk)
                 .values_list("status_code", flat=True))
    assert 409 in codes


def test_changed_email_updates_the_same_profile_by_id(merchant: Merchant) -> None:
    sub, _ = subscription_create(shop=merchant.shop, variant=merchant.variant,
                                 email="old@shop.test")
    engine.run_shop(merchant.shop.pk, "sync")
    sub.refresh_from_db()
    profile_id = sub.klaviyo_profile_id
    # By hand: no service changes an email yet (Shopify's customer webhooks will).
    Subscription.objects.filter(pk=sub.pk).update(email="new@shop.test")
    sub.refresh_from_db()
    _resync(sub)
    engine.run_shop(merchant.shop.pk, "sync")
    sub.refresh_from_db()
    assert sub.klaviyo_profile_id == profile_id
    profiles = _profiles_by_email(merchant)
    assert "old@shop.test" not in profiles
    assert profiles["new@shop.test"]["id"] == profile_id
    assert SyncAttempt.objects.filter(subscription_id=sub.pk, operation="update_profile",
                                      status_code=200).exists()


def test_stored_profile_id_that_no_longer_exists_falls_back_to_upsert(
    merchant: Merchant,
) -> None:
    sub, _ = subscription_create(shop=merchant.shop, variant=merchant.variant,
                                 email="gone@shop.test")
    # By hand: a profile deleted in Klaviyo since it was recorded.
    Subscription.objects.filter(pk=sub.pk).update(klaviyo_profile_id="01JDELETEDPROFILE00000000X")
    engine.run_shop(merchant.shop.pk, "sync")
    sub.refresh_from_db()
    assert sub.sync_state == Subscription.SyncState.SYNCED
    assert sub.klaviyo_profile_id == _profiles_by_email(merchant)["gone@shop.test"]["id"]
    statuses = list(SyncAttempt.objects.filter(subscription_id=sub.pk).order_by("id")
                    .values_list("operation", "status_code"))
    assert statuses[:2] == [("update_profile", 404), ("profile_import", 201)]


def test_invalid_phone_dropped_by_klaviyo_syncs_with_a_note(merchant: Merchant) -> None:
    sub, _ = subscription_create(shop=merchant.shop, variant=merchant.variant,
                                 email="erin@shop.test", phone="555-CALL-ME",
                                 marketing_consent=True)
    engine.run_shop(merchant.shop.pk, "sync")
    sub.refresh_from_db()
    assert sub.sync_state == Subscription.SyncState.SYNCED
    assert "did not accept the phone number" in sub.sync_error
    assert OutboxItem.objects.get(subscription=sub).phone_issue == OutboxItem.PhoneIssue.INVALID
    assert _profiles_by_email(merchant)["erin@shop.test"].get("phone_number") is None
    # Consent for the channel that exists (email) only; no SMS consent for a number Klaviyo
    # refused.
    assert {c["channel"] for c in merchant.admin.subscriptions(merchant.account_id)} == {"email"}


def test_deleted_list_halts_the_shop_with_the_sentence_and_keeps_rows(merchant: Merchant) -> None:
    merchant.admin.delete_list(merchant.account_id, merchant.list_id)
    sub, _ = subscription_create(shop=merchant.shop, variant=merchant.variant,
                                 email="fay@shop.test")
    summary = engine.run_shop(merchant.shop.pk, "sync")
    assert summary.get("halted") is True
    connection = KlaviyoConnection.objects.get(shop=merchant.shop)
    assert connection.status == KlaviyoConnection.Status.NEEDS_ATTENTION
    assert connection.last_error_kind == "not_found"
    assert connection.last_error_message == sentence_for("not_found")
    item = OutboxItem.objects.get(subscription=sub)
    assert item.state == OutboxItem.State.PENDING and item.leased_until is None
    assert item.attempts == 0
    sub.refresh_from_db()
    assert sub.sync_state == Subscription.SyncState.PENDING
    # The merchant picks a new list: the same row finishes, nothing was lost.
    new_list = merchant.admin.create_list(merchant.account_id, "Restored")
    connection_list_set(shop=merchant.shop, list_id=new_list)
    engine.run_shop(merchant.shop.pk, "sync")
    item.refresh_from_db()
    assert item.state == OutboxItem.State.DONE
    assert merchant.admin.list_members(merchant.account_id, new_list)
