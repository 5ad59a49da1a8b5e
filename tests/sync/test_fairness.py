"""Fairness with real workers: a big backlog of one merchant never holds up another's signup."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_create
from notifyme.sync import lanes
from notifyme.sync.models import OutboxItem
from tests.fixtures.sandbox import SandboxHandle

from .conftest import add_subscribers, make_merchant
from .workers import Worker, start_sweeper, start_workers, stop_workers, wait_until, worker_env

pytestmark = [pytest.mark.chaos]  # real worker processes
BACKLOG = 40_000


@pytest.fixture
def processes() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    stop_workers(started, grace=5)


def test_lone_signup_overtakes_another_merchants_backlog(
    transactional_db: None, klaviyo_sandbox: SandboxHandle, processes: list[Worker],
) -> None:
    busy = make_merchant(klaviyo_sandbox, "busy-shop.myshopify.com", shopify_variant=4001)
    quiet = make_merchant(klaviyo_sandbox, "quiet-shop.myshopify.com", shopify_variant=4002)
    add_subscribers(busy, BACKLOG)
    env = worker_env(SYNC_IMPORT_FIRST_POLL_SECONDS="0.5")
    processes += start_workers(2, env=env, with_scheduler=False)
    processes.append(start_sweeper(env, interval=5.0))
    lanes.enqueue_shop(shop_id=busy.shop.pk, lane="bulk")
    done = OutboxItem.objects.filter(shop=busy.shop, state="done")
    wait_until(lambda: done.exists() or OutboxItem.objects.filter(
        shop=busy.shop, steps_done__gt=0).exists(), timeout=60,
        message="the backlog never started")
    started = time.monotonic()
    sub, _ = subscription_create(shop=quiet.shop, variant=quiet.variant,
                                 email="first@quiet.test")  # commits; nudges `sync`
    wait_until(lambda: Subscription.objects.get(pk=sub.pk).sync_state == "synced",
               timeout=30, interval=0.05, message="the lone signup waited behind the backlog")
    latency = time.monotonic() - started
    remaining = OutboxItem.objects.filter(shop=busy.shop).exclude(state="done").count()
    print(f"lone signup synced in {latency:.2f}s with {remaining} backlog rows left")
    assert latency < 5.0, latency
    assert remaining > 0, "the backlog finished first; nothing was proven"
    assert len(quiet.members()) == 1
