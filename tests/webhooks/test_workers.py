"""End to end with real processes: a signed delivery is processed by a real RQ worker; a job
lost with all of Redis is re-nudged by the real sweeper."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client

from notifyme.core.redis import get_redis
from notifyme.shops.models import Shop
from notifyme.webhooks.models import WebhookEvent
from tests.fixtures.shopify import make_shop
from tests.sync.workers import Worker, start_sweeper, start_workers, stop_workers, wait_until

from .conftest import deliver, webhook_jobs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def procs() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    stop_workers(started)


def _state(shop: Shop) -> str:
    return Shop.objects.get(pk=shop.pk).state


def test_worker_processes_a_delivery(client: Client, procs: list[Worker]) -> None:
    shop = make_shop()
    procs += start_workers(1, queues=("sync",), with_scheduler=False)
    assert deliver(client, "app/uninstalled", {"id": 1}).status_code == 200
    wait_until(lambda: _state(shop) == Shop.State.UNINSTALLED, timeout=30,
               message=procs[0].output())
    event = WebhookEvent.objects.get()
    assert (event.state, event.outcome) == ("processed", "shop marked uninstalled")


def test_lost_job_is_renudged_by_the_sweeper(client: Client, procs: list[Worker]) -> None:
    shop = make_shop()
    assert deliver(client, "app/uninstalled", {"id": 1}).status_code == 200
    assert len(webhook_jobs()) == 1
    get_redis().flushdb()  # Redis lost every job (and the marker)
    procs += start_workers(1, queues=("sync",), with_scheduler=False)
    procs.append(start_sweeper(interval=1.0))
    wait_until(lambda: _state(shop) == Shop.State.UNINSTALLED, timeout=30,
               message="\n".join(p.output() for p in procs))
    assert WebhookEvent.objects.get().state == "processed"
