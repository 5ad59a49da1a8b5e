"""Sync history is pruned after its retention: never pending work, never recent history."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import QuerySet
from django.utils import timezone

from integrations.klaviyo.models import SyncAttempt
from notifyme.delivery import sweeper
from notifyme.subscriptions.models import Subscription
from notifyme.sync import engine, retention
from notifyme.sync.models import ImportBatch, OutboxItem

from .conftest import Merchant, add_subscribers, states


def _age(queryset: QuerySet[Any], field: str, days: float) -> None:
    queryset.update(**{field: timezone.now() - timedelta(days=days)})


def test_old_history_goes_recent_history_and_pending_work_stay(merchant: Merchant) -> None:
    shop_id = merchant.shop.pk
    add_subscribers(merchant, 30)  # 30 > SINGLE_MAX: the bulk import path, so import jobs too
    engine.run_shop(shop_id, "bulk")
    assert states(shop_id) == {"done": 30}
    assert ImportBatch.objects.filter(shop_id=shop_id, state="done").exists()
    done = OutboxItem.objects.filter(shop_id=shop_id).order_by("id")
    ids = list(done.values_list("id", flat=True))
    _age(OutboxItem.objects.filter(id__in=ids[:10]), "completed_at", 8)   # past 7 days: goes
    _age(OutboxItem.objects.filter(id__in=ids[10:20]), "completed_at", 6)  # within: stays
    OutboxItem.objects.filter(id__in=ids[20:25]).update(state="failed")  # only age matters
    _age(OutboxItem.objects.filter(id__in=ids[20:23]), "completed_at", 91)  # failed, 91 days
    _age(OutboxItem.objects.filter(id__in=ids[23:25]), "completed_at", 30)  # failed, 30 days
    _age(ImportBatch.objects.filter(shop_id=shop_id), "completed_at", 91)
    calls = SyncAttempt.objects.filter(shop_id=shop_id)
    old_calls = list(calls.values_list("id", flat=True))
    _age(SyncAttempt.objects.filter(id__in=old_calls), "created_at", 91)
    # Work still to do is never pruned, however old.
    pending = add_subscribers(merchant, 2, start=100)
    _age(OutboxItem.objects.filter(subscription__in=pending), "created_at", 400)
    _age(OutboxItem.objects.filter(subscription__in=pending), "completed_at", 400)

    out = io.StringIO()
    call_command("prune_sync_history", "--dry-run", stdout=out)
    assert "outbox_done: would delete 10" in out.getvalue()
    assert OutboxItem.objects.filter(shop_id=shop_id).count() == 32  # dry run deleted nothing

    call_command("prune_sync_history", stdout=io.StringIO())
    left = set(OutboxItem.objects.filter(shop_id=shop_id).values_list("id", flat=True))
    assert left.isdisjoint(ids[:10]) and left.isdisjoint(ids[20:23])
    assert set(ids[10:20]) | set(ids[23:25]) <= left
    assert OutboxItem.objects.filter(subscription__in=pending, state="pending").count() == 2
    assert not ImportBatch.objects.filter(shop_id=shop_id).exists()
    assert not SyncAttempt.objects.filter(id__in=old_calls).exists()
    # The subscriptions themselves keep their sync state: only the work rows went.
    assert Subscription.objects.filter(shop_id=shop_id, sync_state="synced").count() == 30


@pytest.mark.usefixtures("merchant")
def test_the_sweeper_prunes_at_most_once_an_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "_last_run", {})
    first = sweeper.sweep()["retention"]
    assert first == {"outbox_done": 0, "outbox_failed": 0, "import_jobs": 0, "klaviyo_calls": 0}
    assert sweeper.sweep()["retention"] == "not due"
