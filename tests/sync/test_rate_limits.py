"""429s from Klaviyo and our own limiter waits: rows rescheduled, never lost, never slept on."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from integrations.klaviyo import ratelimit
from integrations.klaviyo.models import SyncAttempt
from notifyme.core.redis import get_redis
from notifyme.delivery import nudges
from notifyme.sync import engine
from notifyme.sync.models import OutboxItem
from notifyme.sync.profile_fields import SUBSCRIBED_METRIC

from .conftest import Merchant, add_subscribers, drain, states


@pytest.mark.parametrize(("retry_after", "expected"), [(True, 3.0), (False, 3.0)])
def test_429_reschedules_rows_and_cools_down_the_account(
    merchant: Merchant, retry_after: bool, expected: float,
) -> None:
    """With Retry-After the header decides; without it, the body's "Expected available in N
    seconds" does. Either way the rows come back later, untouched otherwise."""
    add_subscribers(merchant, 3)
    merchant.admin.set_faults(merchant.account_id, next_errors=[429], retry_after=retry_after,
                              retry_after_seconds=3)
    started = time.monotonic()
    summary = engine.run_shop(merchant.shop.pk, "sync")
    assert time.monotonic() - started < 2.5  # the worker did not sleep through the wait
    assert summary["wait"] == pytest.approx(expected, abs=0.3)
    rows = list(OutboxItem.objects.filter(shop=merchant.shop))
    assert {(r.state, r.attempts, r.leased_until) for r in rows} == {("pending", 0, None)}
    assert min(r.available_at for r in rows) > timezone.now()
    assert ratelimit.cool_down_remaining(account_id=merchant.account_id) > 1.5
    # Every operation of the account waits, not only the one that got the 429.
    assert ratelimit.acquire(account_id=merchant.account_id, operation="create_event") > 1.0
    assert get_redis().zscore(nudges.DELAYED_KEY, f"sync-sync|{merchant.shop.pk}") is not None
    drain(merchant.shop.pk, lane="sync", timeout=30)
    assert states(merchant.shop.pk) == {"done": 3}
    assert merchant.stats()["events_by_metric"] == {SUBSCRIBED_METRIC: 3}
    assert SyncAttempt.objects.filter(status_code=429).count() == 1


def test_429_without_any_hint_backs_off_one_then_two_seconds(merchant: Merchant) -> None:
    assert ratelimit.cool_down_after(account_id=merchant.account_id, retry_after=None) == \
        pytest.approx(1.0, abs=0.05)
    assert ratelimit.cool_down_after(account_id=merchant.account_id, retry_after=None) == \
        pytest.approx(2.0, abs=0.05)


def test_own_limiter_wait_returns_rows_without_calling_klaviyo(merchant: Merchant) -> None:
    add_subscribers(merchant, 1)
    for _ in range(350):  # spend this second's create_event budget (350/s)
        ratelimit.acquire(account_id=merchant.account_id, operation="create_event")
    summary = engine.run_shop(merchant.shop.pk, "sync")
    assert 0 < summary["wait"] <= 1.3
    item = OutboxItem.objects.get(shop=merchant.shop)
    assert item.state == "pending" and item.attempts == 0
    assert merchant.admin.events(merchant.account_id) == []
    drain(merchant.shop.pk, lane="sync", timeout=10)
    assert states(merchant.shop.pk) == {"done": 1}


def test_a_bulk_sync_under_the_published_limits_causes_no_429(
    merchant: Merchant, settings,
) -> None:
    """The sandbox enforces Klaviyo's limits; every call goes through our limiter first, so the
    sandbox counts zero 429s (the windows themselves are unit-tested in test_ratelimit.py)."""
    settings.SYNC_IMPORT_FIRST_POLL_SECONDS = 0
    add_subscribers(merchant, 2500, consent=True)
    drain(merchant.shop.pk, timeout=60)
    stats = merchant.stats()
    assert stats["throttled"] == 0
    assert stats["events_by_metric"] == {SUBSCRIBED_METRIC: 2500}
    assert states(merchant.shop.pk) == {"done": 2500}


def test_a_wait_mid_stage_never_resends_accepted_chunks(merchant: Merchant, settings) -> None:
    """Leave one bulk-events slot in this second: the first chunk goes, the next ones wait —
    and the chunk that went is never sent again."""
    settings.SYNC_IMPORT_FIRST_POLL_SECONDS = 0
    merchant.admin.set_rate_limits(enabled=False, account_id=merchant.account_id)
    add_subscribers(merchant, 3500)
    for _ in range(9):
        ratelimit.acquire(account_id=merchant.account_id, operation="bulk_create_events")
    drain(merchant.shop.pk, timeout=60)
    sent = [a for a in SyncAttempt.objects.filter(operation="bulk_create_events")
            if a.status_code == 202]
    assert sorted(a.records for a in sent) == [500, 1000, 1000, 1000]
    assert merchant.stats()["duplicates_dropped"] == 0
