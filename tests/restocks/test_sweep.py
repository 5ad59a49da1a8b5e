"""The restock hook of the sweeper: stalled fan-outs are nudged, idle ones completed, due
batches advanced; restocks of shops that are not syncing are left alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django_rq
from django.utils import timezone

from integrations.klaviyo.errors import KlaviyoAuthError
from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.services import connection_halt
from notifyme.catalog.services import variant_update_stock
from notifyme.delivery import registry
from notifyme.restocks import progress
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.restocks.services import detection_of
from notifyme.restocks.sweep import sweep_restocks
from tests.restocks.conftest import Connected, add_subscribers, drain, set_settings


def _bulk_jobs() -> list[str]:
    return [job.func_name for job in django_rq.get_queue("bulk").jobs]


def test_registered_with_the_shared_sweeper() -> None:
    handler = registry.get("restocks")
    assert handler.sweep is sweep_restocks
    assert set(handler.delayed) == {"restock-fanout", "restock-advance"}
    assert "notifyme.restocks.jobs" in registry.warm_up_modules()


def test_stalled_fanout_is_nudged_once_not_while_alive(klaviyo_sandbox: Any,
                                                       connected: Connected) -> None:
    add_subscribers(connected.shop, connected.variant, 5)
    restock = detection_of(variant_update_stock(variant=connected.variant, quantity=1)).restock
    assert restock is not None
    # Its nudge was lost (never committed here): a worker died holding an expired lease.
    RestockDelivery.objects.update(leased_until=timezone.now() - timedelta(seconds=1))
    assert sweep_restocks()["nudged"] == 1
    assert _bulk_jobs().count("notifyme.restocks.jobs.run_fanout_chunk") >= 1
    django_rq.get_queue("bulk").empty()
    progress.mark_alive(restock.pk)
    assert sweep_restocks()["nudged"] == 0  # a job is on it
    # Not syncing (halted): nothing to nudge.
    connection_halt(connection=connected.connection, error=KlaviyoAuthError(status=401))
    assert KlaviyoConnection.objects.get().status == KlaviyoConnection.Status.NEEDS_ATTENTION
    progress.get_redis().flushdb()
    assert sweep_restocks()["nudged"] == 0


def test_idle_restock_is_completed_and_due_batch_advanced(klaviyo_sandbox: Any,
                                                         connected: Connected) -> None:
    set_settings(connected.shop, send_mode="batched", subscribers_per_unit=1)
    add_subscribers(connected.shop, connected.variant, 3)
    restock = detection_of(variant_update_stock(variant=connected.variant, quantity=2)).restock
    assert restock is not None
    drain(restock)
    Restock.objects.filter(pk=restock.pk).update(next_batch_at=timezone.now())  # clock: due
    assert sweep_restocks()["batches"] == 1
    assert "notifyme.restocks.jobs.run_restock_advance" in _bulk_jobs()
    # By hand: as if the last batch went out and its job died before completing the restock.
    RestockDelivery.objects.filter(state="pending").update(state="sent")
    Restock.objects.filter(pk=restock.pk).update(next_batch_at=None)
    progress.get_redis().delete(f"restock:{restock.pk}:alive")  # no job has been seen lately
    assert sweep_restocks()["finished"] == 1
    restock.refresh_from_db()
    assert restock.state == Restock.State.COMPLETED


def test_restocks_resume_nudges_the_shops_unfinished_restocks(klaviyo_sandbox: Any,
                                                             connected: Connected) -> None:
    from notifyme.restocks.jobs import restocks_resume

    add_subscribers(connected.shop, connected.variant, 2)
    variant_update_stock(variant=connected.variant, quantity=1)
    django_rq.get_queue("bulk").empty()
    assert restocks_resume(shop_id=connected.shop.pk) == 1
    assert "notifyme.restocks.jobs.run_fanout_chunk" in _bulk_jobs()
