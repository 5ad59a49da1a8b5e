"""One subscriber end to end: profile, list, consent only with consent, event, attempt rows."""

from __future__ import annotations

from datetime import timedelta

from integrations.klaviyo.services import connection_disconnect
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_create, subscription_unsubscribe
from notifyme.sync import engine
from notifyme.sync.models import OutboxItem
from notifyme.sync.profile_fields import CUSTOM_SOURCE, SUBSCRIBED_METRIC

from .conftest import Merchant, add_subscribers, drain


def _profile(merchant: Merchant, email: str) -> dict:
    found = [p for p in merchant.admin.profiles(merchant.account_id) if p["email"] == email]
    assert len(found) == 1, found
    return found[0]


def test_lone_signup_with_consent_syncs_everything_on_the_sync_lane(merchant: Merchant) -> None:
    sub, _ = subscription_create(
        shop=merchant.shop, variant=merchant.variant, email="ann@shop.test",
        phone="+14155550123", first_name="Ann", marketing_consent=True, sms_consent=True,
        locale="en-US", shopify_customer_id=777)
    summary = engine.run_shop(merchant.shop.pk, "sync")
    assert summary["claimed"] == 1
    sub.refresh_from_db()
    assert sub.sync_state == Subscription.SyncState.SYNCED and sub.synced_at
    profile = _profile(merchant, "ann@shop.test")
    assert sub.klaviyo_profile_id == profile["id"]
    assert profile["phone_number"] == "+14155550123"
    assert profile["first_name"] == "Ann" and profile["external_id"] == "777"
    props = profile["properties"]
    assert props["notifyme_back_in_stock"] is True
    assert props["notifyme_last_product_title"] == "Linen Shirt"
    assert props["notifyme_last_variant_id"] == merchant.variant.shopify_id
    assert props["notifyme_last_product_url"].endswith(f"?variant={merchant.variant.shopify_id}")
    assert merchant.members() == [profile["id"]]
    consents = merchant.admin.subscriptions(merchant.account_id)
    assert {c["channel"] for c in consents} == {"email", "sms"}
    assert {c["custom_source"] for c in consents} == {CUSTOM_SOURCE}
    assert {c["list_id"] for c in consents} == {merchant.list_id}
    events = merchant.admin.events(merchant.account_id, metric=SUBSCRIBED_METRIC)
    assert len(events) == 1
    assert events[0]["unique_id"] == f"notifyme:subscribed:{sub.pk}"
    assert events[0]["properties"]["product_title"] == "Linen Shirt"
    item = OutboxItem.objects.get(subscription=sub)
    assert item.state == OutboxItem.State.DONE and item.leased_until is None
    # Single path: profile-import, list add, subscribe, one event — each left an attempt row.
    ops = list(merchant.attempts().values_list("operation", flat=True))
    assert sorted(ops) == sorted(["profile_import", "add_profiles_to_list", "bulk_subscribe",
                                  "create_event"])
    assert all(a.status_code and a.status_code < 300 for a in merchant.attempts())


def test_no_consent_means_list_membership_but_never_a_subscription(merchant: Merchant) -> None:
    sub, _ = subscription_create(shop=merchant.shop, variant=merchant.variant,
                                 email="bob@shop.test", phone="+14155550124")
    engine.run_shop(merchant.shop.pk, "sync")
    sub.refresh_from_db()
    assert sub.sync_state == Subscription.SyncState.SYNCED
    assert merchant.members() == [sub.klaviyo_profile_id]
    assert merchant.admin.subscriptions(merchant.account_id) == []
    assert not [r for r in merchant.requests()
                if "subscription-bulk-create" in r["path"]]
    assert len(merchant.admin.events(merchant.account_id, metric=SUBSCRIBED_METRIC)) == 1


def test_bulk_consent_only_for_consenting_shoppers(merchant: Merchant, settings) -> None:
    settings.SYNC_IMPORT_FIRST_POLL_SECONDS = 0
    consenting = add_subscribers(merchant, 30, consent=True, phone=True)
    silent = add_subscribers(merchant, 30, start=100)
    drain(merchant.shop.pk)
    consents = merchant.admin.subscriptions(merchant.account_id)
    consented_emails = {c["email"] for c in consents}
    assert consented_emails == {s.email for s in consenting}
    assert not consented_emails & {s.email for s in silent}
    assert {c["channel"] for c in consents} == {"email", "sms"}
    assert len(merchant.members()) == 60
    assert Subscription.objects.filter(sync_state="synced").count() == 60


def test_old_consent_is_sent_as_historical_with_its_time(merchant: Merchant, settings) -> None:
    settings.SYNC_IMPORT_FIRST_POLL_SECONDS = 0
    [sub] = add_subscribers(merchant, 1, consent=True, age=timedelta(days=3))
    drain(merchant.shop.pk)
    [consent] = merchant.admin.subscriptions(merchant.account_id)
    assert consent["consented_at"].startswith(sub.consented_at.date().isoformat())


def test_ended_subscription_is_never_subscribed(merchant: Merchant) -> None:
    [sub] = add_subscribers(merchant, 1, consent=True)
    subscription_unsubscribe(subscription=sub)  # before its profile sync ran
    engine.run_shop(merchant.shop.pk, "sync")
    # The only call is the withdrawal looking for a profile to take off the list (none).
    assert [(r["method"], r["operation"]) for r in merchant.requests()] == [
        ("GET", "get_profiles")]
    assert merchant.admin.profiles(merchant.account_id) == []
    assert OutboxItem.objects.get(subscription=sub, kind="profile_sync").state == "done"


def test_disconnected_shop_leaves_rows_untouched(merchant: Merchant) -> None:
    add_subscribers(merchant, 3)
    connection_disconnect(shop=merchant.shop)
    assert engine.run_shop(merchant.shop.pk, "sync") == {"skipped": "not syncing"}
    rows = OutboxItem.objects.filter(shop=merchant.shop)
    assert {(r.state, r.leased_until, r.attempts) for r in rows} == {("pending", None, 0)}
