"""Chaos: real worker processes, killed, starved of Redis and of PostgreSQL, and a flaky Klaviyo.

Every scenario must end with each subscriber holding exactly one "Back in Stock" event in the
sandbox (one stored event per unique_id; the sandbox may have dropped resends of an accepted
chunk — that is Klaviyo's dedup doing its job), the restock completed and counted right.
Bounded (each wait has a timeout), loopback only, and only processes started here are signalled.

PostgreSQL is not restarted with pg_ctlcluster here: the server is shared with other suites on
this machine. Instead every connection our workers and sweeper hold to the test database is
terminated mid-run (pg_terminate_backend), which is what a restart looks like from our side.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, transaction

from notifyme.catalog.services import variant_update_stock
from notifyme.core.redis import get_redis
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.restocks.services import detection_of
from notifyme.subscriptions.models import Subscription
from tests.fixtures.shopify import make_shop, make_variant
from tests.restocks.conftest import add_subscribers, connect
from tests.sync.workers import (
    Worker,
    kill_workers,
    start_sweeper,
    start_workers,
    stop_workers,
    wait_until,
    worker_env,
)

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]
SUBSCRIBERS = 6_000
FAST = {"RESTOCK_LEASE_SECONDS": "5", "RESTOCK_ALIVE_SECONDS": "2",
        "KLAVIYO_TIMEOUT_SECONDS": "3", "LOG_LEVEL": "WARNING"}


class Scene:
    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.shop = make_shop()
        self.variant = make_variant(self.shop, quantity=0)
        self.account_id, _ = connect(sandbox, self.shop)
        self.subs = add_subscribers(self.shop, self.variant, SUBSCRIBERS)
        self.env = worker_env(**FAST)
        self.procs: list[Worker] = []

    def start(self, workers: int = 3, **env: str) -> None:
        self.env.update(env)
        self.procs += start_workers(workers, env=self.env)
        self.procs.append(start_sweeper(self.env, interval=2.0, tick=0.05))

    def accepted(self) -> int:
        return int(self.sandbox.admin.stats(self.account_id)["events"])

    def restock(self) -> Restock:
        """The stock write; its first chunk of deliveries is written with it (RESTOCK_FIRST_CHUNK
        of the oldest subscribers), the rest by the workers' materialise job."""
        restock = detection_of(variant_update_stock(variant=self.variant, quantity=10)).restock
        assert restock is not None and 0 < restock.total <= SUBSCRIBERS
        return restock

    def finish_and_check(self, restock: Restock, timeout: float = 120) -> dict[str, Any]:
        wait_until(lambda: self.accepted() >= SUBSCRIBERS, timeout=timeout,
                   message=self._state("events never all arrived"))
        wait_until(lambda: Restock.objects.get(pk=restock.pk).state == "completed",
                   timeout=60, message=self._state("restock never completed"))
        events = self.sandbox.admin.events(self.account_id, metric="Back in Stock")
        per_id = Counter(e["unique_id"] for e in events)
        expected = {f"notifyme:bis:{restock.pk}:{s.pk}" for s in self.subs}
        assert set(per_id) == expected
        assert max(per_id.values()) == 1  # exactly once in Klaviyo's eyes
        restock.refresh_from_db()
        assert (restock.sent, restock.failed, restock.total) == (SUBSCRIBERS, 0, SUBSCRIBERS)
        assert Subscription.objects.filter(status="notified").count() == SUBSCRIBERS
        assert not RestockDelivery.objects.filter(state="pending").exists()
        return dict(self.sandbox.admin.stats(self.account_id))

    def _state(self, text: str) -> str:
        pending = list(RestockDelivery.objects.filter(state="pending").values_list(
            "available_at", "leased_until", "attempts", "last_error")[:3])
        counts = Counter(RestockDelivery.objects.values_list("state", flat=True))
        logs = "\n".join(f"--- {p.name}\n{p.output(1500)}" for p in self.procs[-2:])
        return (f"{text}: accepted={self.accepted()} rows={dict(counts)} pending={pending}\n"
                f"{logs}")


@pytest.fixture
def scene(klaviyo_sandbox: Any) -> Iterator[Scene]:
    s = Scene(klaviyo_sandbox)
    yield s
    stop_workers(s.procs, grace=5)


def _mid_run(scene: Scene, action: Callable[[], None]) -> None:
    """Wait until the fan-out is under way but not done, then act."""
    wait_until(lambda: 0 < scene.accepted() < SUBSCRIBERS, timeout=60, interval=0.05,
               message=scene._state("fan-out never started"))
    action()


def test_sigkill_every_worker_mid_fanout_then_restart(scene: Scene) -> None:
    scene.sandbox.admin.set_faults(scene.account_id, delay=0.4)  # keep chunks in flight
    scene.start()
    restock = scene.restock()

    def massacre() -> None:
        kill_workers(scene.procs)  # parents and work horses, sweeper too: no warm shutdown
        time.sleep(1)
        assert scene.accepted() < SUBSCRIBERS
        scene.sandbox.admin.clear_faults(scene.account_id)
        scene.start()

    _mid_run(scene, massacre)
    scene.finish_and_check(restock)


def _materialiser_blocked(name: str) -> bool:
    """Is a materialise job's watermark UPDATE waiting for the restock's row lock?"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh, inside our transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = "
            "'Lock' AND query LIKE %s", [name, '%SET "materialised" =%'])
        return bool(cursor.fetchone()[0])


def test_sigkill_every_worker_mid_materialisation_then_the_sweeper_resumes(
    scene: Scene, settings: Any
) -> None:
    """A worker killed while it writes a chunk of deliveries: the chunk rolls back, the sweeper
    resumes from the watermark, and every subscriber still gets exactly one event.

    To kill it mid-chunk for sure, this test holds the restock's row lock right after the start:
    the materialiser's chunk is then inserted but waits, uncommitted, on its watermark UPDATE
    (the fan-out's counter update waits too); every worker and the sweeper are SIGKILLed while
    it waits. Nothing but the sweeper's database scan can then restart the materialisation (its
    job is gone, its nudge marker was cleared when it started)."""
    settings.RESTOCK_FIRST_CHUNK = 500
    scene.start(workers=2, RESTOCK_FIRST_CHUNK="500", RESTOCK_MATERIALISE_CHUNK="700")
    name = connection.settings_dict["NAME"]
    restock = scene.restock()
    assert restock.materialising and restock.total == 500
    with transaction.atomic():
        written = Restock.objects.select_for_update().get(pk=restock.pk).materialised
        try:  # (the workers' start-up is part of this wait on a busy machine)
            wait_until(lambda: _materialiser_blocked(name), timeout=120, interval=0.05)
        except AssertionError:
            raise AssertionError(scene._state("the materialiser never reached its chunk")
                                 ) from None
        kill_workers(scene.procs)
    assert written < SUBSCRIBERS
    restock.refresh_from_db()
    assert restock.materialised == written and restock.materialised_at is None  # rolled back
    assert RestockDelivery.objects.filter(restock=restock).count() == written
    scene.start(workers=2)
    scene.finish_and_check(restock)
    restock.refresh_from_db()
    assert restock.materialised == SUBSCRIBERS and restock.materialised_at is not None


def test_redis_flushed_mid_run(scene: Scene) -> None:
    scene.sandbox.admin.set_faults(scene.account_id, delay=0.3)
    scene.start()
    restock = scene.restock()

    def flush() -> None:
        get_redis().flushdb()  # every queued job, delayed nudge and limiter window: gone
        scene.sandbox.admin.clear_faults(scene.account_id)

    _mid_run(scene, flush)
    scene.finish_and_check(restock)


def test_database_connections_cut_mid_run(scene: Scene) -> None:
    scene.sandbox.admin.set_faults(scene.account_id, delay=0.3)
    scene.start()
    restock = scene.restock()
    name = connection.settings_dict["NAME"]

    def cut() -> None:
        for _ in range(3):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()", [name])
            time.sleep(0.5)
        scene.sandbox.admin.clear_faults(scene.account_id)

    _mid_run(scene, cut)
    scene.finish_and_check(restock)


def test_twenty_percent_faults(scene: Scene) -> None:
    """One request in five fails (429 without Retry-After, 5xx) and some connections drop;
    chunks of 100 so there are 60 requests to hit."""
    scene.sandbox.admin.set_faults(
        scene.account_id, error_rate=0.2, error_statuses=[429, 500, 502, 503, 504],
        retry_after=False, drop_rate=0.03, seed=20)
    scene.start(RESTOCK_CHUNK_SIZE="100")
    restock = scene.restock()
    stats = scene.finish_and_check(restock, timeout=180)
    assert stats["faults_served"] >= 5


def test_another_merchants_signup_syncs_during_a_big_fanout(scene: Scene) -> None:
    """Fairness: fan-out chunks run on `bulk`, a signup's sync on `sync` (workers take `sync`
    first), so shop B's lone subscriber reaches Klaviyo within seconds of signing up while
    shop A's restock is still going."""
    from notifyme.subscriptions.services import subscription_create

    other = make_shop("other-shop.myshopify.com", name="Other Shop")
    other_variant = make_variant(other, quantity=0)
    other_account, _ = connect(scene.sandbox, other, "Other Store")
    scene.sandbox.admin.set_faults(scene.account_id, delay=0.5)  # A's chunks take a while
    scene.start(workers=2)
    restock = scene.restock()
    wait_until(lambda: scene.accepted() > 0, timeout=60, interval=0.05)
    signed_up = time.monotonic()
    subscription_create(shop=other, variant=other_variant, email="lone@example.com")
    wait_until(lambda: any(p.get("email") == "lone@example.com" for p in
                           scene.sandbox.admin.profiles(other_account)),
               timeout=30, interval=0.1, message=scene._state("B's signup never synced"))
    waited = time.monotonic() - signed_up
    assert scene.accepted() < SUBSCRIBERS, "A's fan-out should still be running"
    assert waited < 5, f"B waited {waited:.1f} s behind A's restock"
    scene.sandbox.admin.clear_faults(scene.account_id)
    scene.finish_and_check(restock)
