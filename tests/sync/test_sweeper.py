"""Nudges are coalesced but never swallowed; the sweeper recovers everything Redis forgets."""

from __future__ import annotations

import time
from datetime import timedelta

import django_rq
import pytest
from django.db import OperationalError
from django.utils import timezone
from redis import Redis
from rq import Queue

from notifyme.core.redis import get_redis
from notifyme.delivery import leasing, nudges, registry, sweeper
from notifyme.subscriptions.services import subscription_create
from notifyme.sync import engine, lanes
from notifyme.sync.models import OutboxItem
from notifyme.sync.services import sync_nudge

from .conftest import Merchant, add_subscribers, states


def _jobs(lane: str) -> list[str]:
    return django_rq.get_queue(lane).job_ids


def test_nudges_coalesce_while_queued_and_not_while_running(merchant: Merchant) -> None:
    shop_id = merchant.shop.pk
    assert lanes.enqueue_shop(shop_id=shop_id, lane="sync") is True
    assert lanes.enqueue_shop(shop_id=shop_id, lane="sync") is False
    assert len(_jobs("sync")) == 1
    lanes.job_started(shop_id=shop_id, lane="sync")  # the job is running now
    assert lanes.enqueue_shop(shop_id=shop_id, lane="sync") is True  # not swallowed
    assert len(_jobs("sync")) == 2
    assert lanes.enqueue_shop(shop_id=shop_id, lane="bulk") is True  # lanes are separate


def test_marker_whose_job_vanished_is_replaced_by_the_sweeper(merchant: Merchant) -> None:
    add_subscribers(merchant, 1)
    lanes.enqueue_shop(shop_id=merchant.shop.pk, lane="sync")
    django_rq.get_queue("sync").empty()  # the job is gone, the marker is not
    assert lanes.enqueue_shop(shop_id=merchant.shop.pk, lane="sync") is False
    assert sweeper.sweep()["sync"] == 1
    assert len(_jobs("sync")) == 1


def test_expired_lease_is_swept_and_finished(merchant: Merchant) -> None:
    add_subscribers(merchant, 3)
    token = leasing.new_token()
    ids = leasing.claim(OutboxItem.objects.filter(shop=merchant.shop), limit=10,
                        lease_seconds=60, token=token)  # a worker that will die
    assert len(ids) == 3
    assert sweeper.sweep()["sync"] == 0  # leased, not due
    OutboxItem.objects.update(leased_until=timezone.now() - timedelta(seconds=1))  # it died
    assert sweeper.sweep()["sync"] == 1
    assert len(_jobs("sync")) == 1
    engine.run_shop(merchant.shop.pk, "sync")
    assert states(merchant.shop.pk) == {"done": 3}
    # The dead worker's late writes are fenced off by its token.
    assert leasing.release(OutboxItem, ids, token=token) == 0


def test_redis_down_during_the_nudge_then_the_sweeper_catches_up(
    merchant: Merchant, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks,
) -> None:
    dead = Queue("sync", connection=Redis(port=1, socket_connect_timeout=0.2))
    monkeypatch.setattr(nudges, "queue", lambda name: dead)
    with django_capture_on_commit_callbacks(execute=True):
        sub, _ = subscription_create(shop=merchant.shop, variant=merchant.variant,
                                     email="lost@shop.test")
    assert sync_nudge(shop_id=merchant.shop.pk) is False  # logged, not raised
    monkeypatch.undo()
    assert _jobs("sync") == []
    assert OutboxItem.objects.get(subscription=sub).state == "pending"  # the row is safe
    assert sweeper.sweep()["sync"] == 1
    engine.run_shop(merchant.shop.pk, "sync")
    assert states(merchant.shop.pk) == {"done": 1}


def test_delayed_nudges_fire_when_due_once(merchant: Merchant) -> None:
    lanes.later_shop(shop_id=merchant.shop.pk, lane="bulk", seconds=5)
    lanes.later_shop(shop_id=merchant.shop.pk, lane="bulk", seconds=1)  # earliest wins
    assert nudges.next_due_in() == pytest.approx(1, abs=0.2)
    assert nudges.release_due() == 0
    assert nudges.release_due(now=time.time() + 1.5) == 1
    assert nudges.release_due(now=time.time() + 10) == 0
    assert len(_jobs("bulk")) == 1


def test_every_registered_handler_is_swept_and_failures_are_contained(db: None) -> None:
    calls: list[str] = []
    registry.register(registry.Handler(name="ok", sweep=lambda: calls.append("ok") or 1))
    registry.register(registry.Handler(name="broken", sweep=lambda: 1 / 0))
    try:
        result = sweeper.sweep()
    finally:
        registry.unregister("ok")
        registry.unregister("broken")
    assert calls == ["ok"]
    assert result["ok"] == 1 and result["broken"] == "error"


def test_sweeper_loop_is_bounded_and_fires_delayed_nudges(merchant: Merchant) -> None:
    lanes.later_shop(shop_id=merchant.shop.pk, lane="sync", seconds=0)
    sweeper.run(interval=60, tick_seconds=0.01, max_seconds=0.3)
    assert len(_jobs("sync")) == 1
    assert get_redis().zcard(nudges.DELAYED_KEY) == 0


def test_follow_up_schedules_the_next_due_time(merchant: Merchant) -> None:
    add_subscribers(merchant, 1)
    OutboxItem.objects.update(available_at=timezone.now() + timedelta(seconds=30))
    action = engine.follow_up(merchant.shop.pk, "sync")
    assert action.startswith("later ")
    assert float(action.split()[1].rstrip("s")) == pytest.approx(30, abs=1)
    OutboxItem.objects.update(available_at=timezone.now())
    assert engine.follow_up(merchant.shop.pk, "sync") == "nudged sync"



def test_a_database_error_in_one_handler_reconnects_for_the_next(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A restarted PostgreSQL fails one sweep, not every sweep after it: the sweeper drops its
    broken connections when a handler hits a database error (and only then)."""
    dropped: list[bool] = []
    monkeypatch.setattr(sweeper, "_drop_broken_connections", lambda: dropped.append(True))

    def dead() -> None:
        raise OperationalError("the connection is closed")

    monkeypatch.setattr(registry, "_handlers", {
        "dead-db": registry.Handler(name="dead-db", sweep=dead),
        "other": registry.Handler(name="other", sweep=lambda: 1 / 0),
        "fine": registry.Handler(name="fine", sweep=lambda: 3),
    })
    assert sweeper.sweep() == {"dead-db": "error", "other": "error", "fine": 3}
    assert dropped == [True]
