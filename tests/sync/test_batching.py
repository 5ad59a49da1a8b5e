"""Batch boundaries: bulk endpoints get full chunks and never more than Klaviyo allows."""

from __future__ import annotations

import math
import time

import pytest

from notifyme.subscriptions.models import Subscription
from notifyme.sync.models import ImportBatch, OutboxItem
from notifyme.sync.profile_fields import SUBSCRIBED_METRIC

from .conftest import Merchant, add_subscribers, drain, states


def _calls(merchant: Merchant, suffix: str) -> list[dict]:
    return [r for r in merchant.requests()
            if r["path"].rstrip("/").endswith(suffix) and r["status"] < 300]


@pytest.mark.parametrize("count", [1, 999, 1000, 1001, 10_001])
def test_batch_boundaries(merchant: Merchant, settings, count: int) -> None:
    settings.SYNC_IMPORT_FIRST_POLL_SECONDS = 0
    merchant.admin.set_rate_limits(enabled=False, account_id=merchant.account_id)
    subs = add_subscribers(merchant, count, consent=True)
    started = time.monotonic()
    drain(merchant.shop.pk, timeout=120)
    print(f"drained {count} in {time.monotonic() - started:.2f}s")
    assert states(merchant.shop.pk) == {"done": count}
    assert Subscription.objects.filter(sync_state="synced").count() == count
    stats = merchant.stats()
    assert stats["profiles"] == count
    assert stats["list_members"][merchant.list_id] == count
    assert stats["subscriptions"] == count  # one email consent each
    assert stats["events_by_metric"] == {SUBSCRIBED_METRIC: count}
    assert stats["throttled"] == 0
    events = _calls(merchant, "/api/event-bulk-create-jobs")
    single_events = _calls(merchant, "/api/events")
    subscribes = _calls(merchant, "/api/profile-subscription-bulk-create-jobs")
    imports = _calls(merchant, "/api/profile-bulk-import-jobs")
    if count == 1:
        assert len(single_events) == 1 and not events and not imports
        assert len(_calls(merchant, "/api/profile-import")) == 1
        assert len(subscribes) == 1
        return
    # Full chunks: the fewest calls the per-request caps allow (the 10,001st row comes in a
    # second claim of its own and goes one-by-one).
    bulk_rows = min(count, 10_000)
    assert len(events) == math.ceil(bulk_rows / 1000)
    assert len(single_events) == (count > 10_000)
    assert len(subscribes) == math.ceil(bulk_rows / 1000) + (count > 10_000)
    jobs = merchant.admin.jobs(merchant.account_id)
    assert sum(job["total_count"] for job in jobs) == bulk_rows
    assert all(job["total_count"] <= 10_000 for job in jobs)
    assert all(r["body_size"] <= 5_000_000 for r in imports)
    assert ImportBatch.objects.filter(state="done").count() == len(jobs)
    # Rows keep a link to the import job that carried them (support), and every one is done.
    assert not OutboxItem.objects.filter(import_batch__isnull=False).exclude(
        import_batch__state="done").exists()
    sample = Subscription.objects.get(pk=subs[-1].pk)
    assert sample.synced_at is not None


def test_queries_do_not_grow_with_rows(merchant: Merchant, settings) -> None:
    """No per-subscriber query anywhere on the bulk path (3,000 vs 1,000 rows)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifyme.sync import engine

    settings.SYNC_IMPORT_FIRST_POLL_SECONDS = 0
    merchant.admin.set_rate_limits(enabled=False, account_id=merchant.account_id)
    counts = []
    for start, count in ((0, 1000), (5000, 3000)):
        add_subscribers(merchant, count, consent=True, phone=True, start=start)
        with CaptureQueriesContext(connection) as queries:
            engine.run_shop(merchant.shop.pk, "bulk")
        counts.append(len(queries))
    assert states(merchant.shop.pk) == {"done": 4000}
    # Only per-call work grows (per extra Klaviyo call — 2 x events, 2 x subscribe — one
    # SyncAttempt row and one INSERT of the records it carried); nothing per subscriber.
    assert counts[1] - counts[0] <= 10, counts
