"""Bad records fail alone; import errors map back to their subscriber; outages back off."""

from __future__ import annotations

import pytest

from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.models import SyncAttempt
from notifyme.subscriptions.models import Subscription
from notifyme.sync import engine
from notifyme.sync.models import ImportBatch, OutboxItem, Step
from notifyme.sync.profile_fields import SUBSCRIBED_METRIC

from .conftest import Merchant, add_subscribers, drain, states


def test_a_400_pointing_at_one_record_fails_it_alone_and_resends_the_rest(
    merchant: Merchant, settings,
) -> None:
    settings.SYNC_IMPORT_FIRST_POLL_SECONDS = 0
    subs = add_subscribers(merchant, 20, consent=True)
    bad = subs[7]
    # By hand: signup validation would refuse it; a record Klaviyo rejects is what is tested.
    Subscription.objects.filter(pk=bad.pk).update(email="not-an-email@@shop")
    drain(merchant.shop.pk)
    bad.refresh_from_db()
    assert bad.sync_state == Subscription.SyncState.FAILED
    assert "Invalid email address" in bad.sync_error  # Klaviyo's own detail, visible
    assert OutboxItem.objects.get(subscription=bad).state == OutboxItem.State.FAILED
    assert states(merchant.shop.pk) == {"done": 19, "failed": 1}
    assert merchant.stats()["subscriptions"] == 19
    assert merchant.stats()["events_by_metric"] == {SUBSCRIBED_METRIC: 19}
    subscribe_calls = [a.status_code for a in SyncAttempt.objects.filter(
        operation="bulk_subscribe").order_by("id")]
    assert subscribe_calls == [400, 202]  # rejected whole, resent without the bad record
    pointed = SyncAttempt.objects.get(operation="bulk_subscribe", status_code=400)
    assert pointed.error_pointer.startswith("/data/attributes/profiles/data/7/")


@pytest.mark.parametrize("poll", ["inline", "deferred"])
def test_import_errors_map_back_to_their_subscriber(
    merchant: Merchant, settings, poll: str,
) -> None:
    """A row whose only remaining step is the import, with an email Klaviyo refuses. The job
    is checked right after it is created (inline) or, when that check fails, by a later poll
    while the rows wait parked (deferred)."""
    settings.SYNC_IMPORT_FIRST_POLL_SECONDS = 0
    if poll == "deferred":
        merchant.admin.set_faults(merchant.account_id, next_errors=[503],
                                  path_prefix="/api/profile-bulk-import-jobs/")
    subs = add_subscribers(merchant, 15)
    bad = subs[3]
    # By hand: an email Klaviyo refuses, on a row whose other steps are done (see above).
    Subscription.objects.filter(pk=bad.pk).update(email="broken@@shop")
    OutboxItem.objects.filter(subscription=bad).update(steps_done=Step.EVENT,
                                                      steps_needed=Step.BASE)
    drain(merchant.shop.pk)
    bad.refresh_from_db()
    assert bad.sync_state == Subscription.SyncState.FAILED
    assert "Invalid email address" in bad.sync_error
    [job] = merchant.admin.jobs(merchant.account_id)
    assert (job["total_count"], job["failed_count"]) == (15, 1)
    batch = ImportBatch.objects.get()
    assert (batch.state, batch.completed_count, batch.failed_count) == ("done", 14, 1)
    deferred = SyncAttempt.objects.filter(operation="get_bulk_import_job", status_code=503)
    assert deferred.exists() == (poll == "deferred")
    assert states(merchant.shop.pk) == {"done": 14, "failed": 1}
    assert Subscription.objects.filter(sync_state="synced").count() == 14


def test_import_error_for_a_duplicate_profile_is_resent_without_the_phone(
    merchant: Merchant, settings,
) -> None:
    settings.SYNC_IMPORT_FIRST_POLL_SECONDS = 0
    subs = add_subscribers(merchant, 12, phone=True)
    KlaviyoClient(merchant.key).upsert_profile({"phone_number": subs[5].phone})
    drain(merchant.shop.pk)
    assert states(merchant.shop.pk) == {"done": 12}
    item = OutboxItem.objects.get(subscription=subs[5])
    assert item.phone_issue == OutboxItem.PhoneIssue.CONFLICT
    sub = Subscription.objects.get(pk=subs[5].pk)
    assert sub.sync_state == "synced" and "another Klaviyo profile" in sub.sync_error
    assert merchant.admin.jobs(merchant.account_id)[0]["failed_count"] == 1
    assert len(merchant.members()) == 12


def test_outage_backs_off_with_jitter_and_counts_an_attempt(merchant: Merchant) -> None:
    add_subscribers(merchant, 2)
    merchant.admin.set_faults(merchant.account_id, next_errors=[503])
    summary = engine.run_shop(merchant.shop.pk, "sync")
    assert summary["claimed"] == 2
    rows = list(OutboxItem.objects.filter(shop=merchant.shop))
    assert {r.state for r in rows} == {"pending"}
    assert {r.attempts for r in rows} == {1}
    assert all(r.leased_until is None for r in rows)
    assert "503" in rows[0].last_error or "unavailable" in rows[0].last_error
    assert SyncAttempt.objects.filter(status_code=503).count() == 1
    drain(merchant.shop.pk)
    assert states(merchant.shop.pk) == {"done": 2}


def test_timeouts_are_retried_like_outages(merchant: Merchant, settings) -> None:
    settings.KLAVIYO_TIMEOUT_SECONDS = 0.5
    add_subscribers(merchant, 1)
    merchant.admin.set_faults(merchant.account_id, hang_next=1, hang_seconds=2)
    engine.run_shop(merchant.shop.pk, "sync")
    item = OutboxItem.objects.get(shop=merchant.shop)
    assert (item.state, item.attempts) == ("pending", 1)
    assert SyncAttempt.objects.filter(status_code__isnull=True, error_kind="unavailable").exists()
    drain(merchant.shop.pk)
    assert states(merchant.shop.pk) == {"done": 1}
    assert merchant.stats()["events_by_metric"] == {SUBSCRIBED_METRIC: 1}


def test_support_can_retry_failed_rows_from_the_admin(merchant: Merchant, admin_client) -> None:
    [sub] = add_subscribers(merchant, 1)
    # By hand: a record Klaviyo refuses, then fixed (no service edits an email yet).
    Subscription.objects.filter(pk=sub.pk).update(email="bad@@shop")
    drain(merchant.shop.pk, lane="sync")
    item = OutboxItem.objects.get(subscription=sub)
    assert item.state == "failed"
    Subscription.objects.filter(pk=sub.pk).update(email="fixed@shop.test")
    response = admin_client.post("/admin/sync/outboxitem/", {
        "action": "retry_failed", "_selected_action": [item.pk]})
    assert response.status_code == 302
    drain(merchant.shop.pk, lane="sync")
    item.refresh_from_db()
    assert item.state == "done"
    assert Subscription.objects.get(pk=sub.pk).sync_state == "synced"


def test_redis_down_mid_job_backs_rows_off_instead_of_stranding_them(
    merchant: Merchant, monkeypatch,
) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    from integrations.klaviyo import ratelimit

    add_subscribers(merchant, 2)

    def unreachable(**_: object) -> float:
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(ratelimit, "acquire", unreachable)
    engine.run_shop(merchant.shop.pk, "sync")
    rows = list(OutboxItem.objects.filter(shop=merchant.shop))
    assert {(r.state, r.attempts, r.leased_until) for r in rows} == {("pending", 1, None)}
    assert "rate limiter unavailable" in rows[0].last_error
    monkeypatch.undo()
    drain(merchant.shop.pk, lane="sync")
    assert states(merchant.shop.pk) == {"done": 2}
