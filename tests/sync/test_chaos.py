"""Chaos with real workers (`manage.py rqworker sync bulk`) and a real sweeper, loopback only.

Each scenario syncs a backlog while something breaks — every worker SIGKILLed mid-run, Redis
flushed mid-run, 20 % of Klaviyo calls failing — and must end with every subscriber synced
exactly once according to the sandbox: one profile per shopper, one list membership, one
consent record, one "Subscribed to Back in Stock" event (unique_id), and every row DONE.
Bounded: every wait has a timeout, every process is stopped in `finally`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db.models import Count

from notifyme.core.redis import get_redis
from notifyme.sync import lanes
from notifyme.sync.models import OutboxItem
from notifyme.sync.profile_fields import SUBSCRIBED_METRIC
from tests.fixtures.sandbox import SandboxHandle

from .conftest import Merchant, add_subscribers, make_merchant
from .workers import Worker, kill_workers, start_sweeper, start_workers, stop_workers, wait_until
from .workers import worker_env as base_env

pytestmark = [pytest.mark.chaos]
N = 6000
# Short leases and small claims so a kill lands mid-backlog and recovery is quick.
CHAOS_ENV = {"SYNC_LEASE_SECONDS": "6", "SYNC_BULK_CLAIM": "500",
             "SYNC_IMPORT_FIRST_POLL_SECONDS": "0.5", "KLAVIYO_TIMEOUT_SECONDS": "3"}


@pytest.fixture
def chaos_merchant(transactional_db: None, klaviyo_sandbox: SandboxHandle) -> Merchant:
    merchant = make_merchant(klaviyo_sandbox)
    add_subscribers(merchant, N // 2, consent=True, phone=True)
    add_subscribers(merchant, N - N // 2, start=N)
    return merchant


@pytest.fixture
def processes() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    stop_workers(started, grace=5)


def _done() -> int:
    return OutboxItem.objects.filter(state=OutboxItem.State.DONE).count()


def _open() -> dict[str, int]:
    return {r["state"]: r["n"] for r in OutboxItem.objects.exclude(state="done")
            .values("state").annotate(n=Count("id")).order_by()}


def _assert_exactly_once(merchant: Merchant) -> None:
    assert _open() == {}, _open()
    stats = merchant.stats()
    assert stats["profiles"] == N
    assert stats["list_members"][merchant.list_id] == N
    assert stats["events_by_metric"] == {SUBSCRIBED_METRIC: N}
    events = merchant.admin.events(merchant.account_id, metric=SUBSCRIBED_METRIC)
    assert len({e["unique_id"] for e in events}) == N
    # Consent: email for every consenting shopper, SMS too for the ones with a phone (all).
    assert stats["subscriptions"] == N // 2 * 2
    assert {p["email"] for p in merchant.admin.profiles(merchant.account_id)} == {
        f"shopper{i}@shop.test" for i in [*range(N // 2), *range(N, N + N - N // 2)]}


def _start(processes: list[Worker], workers: int = 3) -> None:
    env = base_env(**CHAOS_ENV)
    processes += start_workers(workers, env=env, with_scheduler=False)
    processes.append(start_sweeper(env, interval=2.0))


def test_sigkill_every_worker_mid_backlog_then_restart(
    chaos_merchant: Merchant, processes: list[Worker],
) -> None:
    _start(processes)
    lanes.enqueue_shop(shop_id=chaos_merchant.shop.pk, lane="bulk")
    wait_until(lambda: _done() >= N // 10, timeout=60, message="no progress before the kill")
    kill_workers([p for p in processes if p.name.startswith("worker")])
    assert _done() < N, "finished before the kill; make the backlog bigger"
    processes += start_workers(3, env=base_env(**CHAOS_ENV), with_scheduler=False)
    wait_until(lambda: _done() == N, timeout=120, interval=0.5,
               message=f"not all synced after restart: {_open()}")
    _assert_exactly_once(chaos_merchant)


def test_redis_flushed_mid_run(chaos_merchant: Merchant, processes: list[Worker]) -> None:
    _start(processes)
    lanes.enqueue_shop(shop_id=chaos_merchant.shop.pk, lane="bulk")
    wait_until(lambda: _done() >= N // 10, timeout=60, message="no progress before the flush")
    get_redis().flushdb()  # queues, markers, delayed nudges, limiter windows: all gone
    assert _done() < N
    wait_until(lambda: _done() == N, timeout=120, interval=0.5,
               message=f"not all synced after the flush: {_open()}")
    _assert_exactly_once(chaos_merchant)


def test_twenty_percent_injected_faults(chaos_merchant: Merchant,
                                        processes: list[Worker]) -> None:
    chaos_merchant.admin.set_faults(
        chaos_merchant.account_id, error_rate=0.2, error_statuses=[429, 500, 502, 503, 504],
        retry_after=False, drop_rate=0.02, hang_rate=0.01, hang_seconds=4,
        hang_after_processing=True, seed=7)
    _start(processes)
    lanes.enqueue_shop(shop_id=chaos_merchant.shop.pk, lane="bulk")
    wait_until(lambda: _done() == N, timeout=180, interval=0.5,
               message=f"not all synced under faults: {_open()}")
    assert chaos_merchant.stats()["faults_served"] > 0
    _assert_exactly_once(chaos_merchant)
