"""Leases: concurrent claimers never share rows; outcomes are fenced; backoff has jitter."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from notifyme.delivery import leasing, policy
from notifyme.sync.models import OutboxItem
from tests.fixtures.shopify import make_shop, make_variant

from .conftest import Merchant, add_subscribers


def _fake_merchant() -> Merchant:
    shop = make_shop()
    variant = make_variant(shop)
    return Merchant(shop, variant, None, "", "", "", None)  # type: ignore[arg-type]


def test_claim_takes_due_unleased_pending_rows_only(db: None) -> None:
    merchant = _fake_merchant()
    add_subscribers(merchant, 6)
    rows = list(OutboxItem.objects.order_by("id"))
    # By hand: one row in each state `claim` must tell apart (no job has run).
    OutboxItem.objects.filter(pk=rows[0].pk).update(state="done")
    OutboxItem.objects.filter(pk=rows[1].pk).update(
        available_at=timezone.now() + timedelta(minutes=1))
    OutboxItem.objects.filter(pk=rows[2].pk).update(
        leased_until=timezone.now() + timedelta(minutes=1))
    OutboxItem.objects.filter(pk=rows[3].pk).update(
        leased_until=timezone.now() - timedelta(seconds=1))  # expired: claimable again
    ids = leasing.claim(OutboxItem.objects.all(), limit=10, lease_seconds=30, token="t1")
    assert sorted(ids) == [rows[3].pk, rows[4].pk, rows[5].pk]
    assert set(OutboxItem.objects.filter(pk__in=ids).values_list("lease_token", flat=True)) == {
        "t1"}
    assert leasing.claim(OutboxItem.objects.all(), limit=10, lease_seconds=30) == []


def test_outcomes_are_fenced_by_the_lease_token(db: None) -> None:
    merchant = _fake_merchant()
    add_subscribers(merchant, 2)
    ids = leasing.claim(OutboxItem.objects.all(), limit=2, lease_seconds=30, token="old")
    OutboxItem.objects.update(leased_until=timezone.now() - timedelta(seconds=1))  # it died
    assert sorted(leasing.claim(OutboxItem.objects.all(), limit=2, lease_seconds=30,
                                token="new")) == sorted(ids)
    assert leasing.complete(OutboxItem, ids, token="old") == 0
    assert leasing.extend(OutboxItem, ids, token="old", lease_seconds=30) == 0
    assert leasing.complete(OutboxItem, ids, token="new") == 2
    assert set(OutboxItem.objects.values_list("state", flat=True)) == {"done"}


def test_retry_counts_attempts_and_backs_off_with_jitter(db: None) -> None:
    merchant = _fake_merchant()
    add_subscribers(merchant, 1)
    ids = leasing.claim(OutboxItem.objects.all(), limit=1, lease_seconds=30, token="t")
    before = timezone.now()
    count, delay = leasing.retry(OutboxItem, ids, token="t", error="Klaviyo 503")
    assert count == 1
    item = OutboxItem.objects.get()
    assert (item.attempts, item.leased_until, item.last_error) == (1, None, "Klaviyo 503")
    assert 1.0 <= delay <= 2.0
    assert item.available_at >= before + timedelta(seconds=0.9)
    samples = {round(policy.backoff_seconds(5), 3) for _ in range(20)}
    assert len(samples) > 1 and all(16 <= s <= 32 for s in samples)
    assert policy.backoff_seconds(50) <= policy.BACKOFF_CAP_SECONDS


def test_release_hands_back_without_counting(db: None) -> None:
    merchant = _fake_merchant()
    add_subscribers(merchant, 1)
    ids = leasing.claim(OutboxItem.objects.all(), limit=1, lease_seconds=30, token="t")
    leasing.release(OutboxItem, ids, token="t", delay=5)
    item = OutboxItem.objects.get()
    assert (item.attempts, item.leased_until) == (0, None)
    assert item.available_at > timezone.now() + timedelta(seconds=4)


@pytest.mark.skipif("db_connection.vendor != 'postgresql'")
def test_concurrent_claimers_never_share_a_row(transactional_db: None) -> None:
    merchant = _fake_merchant()
    add_subscribers(merchant, 300)
    claimed: list[list[int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        from django.db import connection

        try:
            barrier.wait(timeout=10)
            for _ in range(5):
                claimed.append(leasing.claim(OutboxItem.objects.all(), limit=20,
                                             lease_seconds=30))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    every = [pk for batch in claimed for pk in batch]
    assert len(every) == len(set(every)) == 300  # each row exactly once, none twice
    assert db_connection.vendor == "postgresql"
