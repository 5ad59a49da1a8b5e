"""Materialisation: a big restock starts with its oldest subscribers' rows and writes the rest
in the background while it sends — with every rule of a restock still holding for those rows.

Chunk sizes are made small here (settings override the RESTOCK_* knobs), so a few hundred
subscribers take several chunks; subscribers created by one bulk insert share `created_at`, so
the (created_at, id) watermark's tie-break is exercised too.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import django_rq
import pytest
from django.db import connection

from notifyme.catalog.services import variant_update_stock
from notifyme.restocks import batches, materialise, progress, sql
from notifyme.restocks.batches import restock_advance
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.restocks.selectors import restock_progress_list
from notifyme.restocks.services import detection_of, restock_cancel
from notifyme.restocks.sweep import sweep_restocks
from notifyme.subscriptions.models import Subscription
from tests.restocks.conftest import Connected, add_subscribers, drain, event_ids, set_settings

FIRST, CHUNK = 40, 75


@pytest.fixture(autouse=True)
def small_chunks(settings: Any) -> None:
    settings.RESTOCK_FIRST_CHUNK = FIRST
    settings.RESTOCK_MATERIALISE_CHUNK = CHUNK


def _start(connected: Connected, quantity: int = 5) -> Restock:
    restock = detection_of(variant_update_stock(variant=connected.variant,
                                                quantity=quantity)).restock
    assert restock is not None
    return restock


def _materialise(restock: Restock) -> int:
    written = materialise.materialise_run(restock_id=restock.pk, seconds=60)
    restock.refresh_from_db()
    return written


def _rows(restock: Restock) -> list[tuple[int, int, str]]:
    return list(RestockDelivery.objects.filter(restock=restock).order_by("position")
                .values_list("position", "subscription_id", "state"))


def _bulk_jobs() -> list[str]:
    return [job.func_name for job in django_rq.get_queue("bulk").jobs]


def test_a_big_restock_starts_with_the_oldest_and_writes_the_rest_in_order(
    klaviyo_sandbox: Any, connected: Connected
) -> None:
    subs = add_subscribers(connected.shop, connected.variant, 500)
    restock = _start(connected)
    assert restock.materialising and restock.total == FIRST and restock.materialised == FIRST
    assert [r[1] for r in _rows(restock)] == [s.pk for s in subs[:FIRST]]
    variant_update_stock(variant=connected.variant, quantity=0)  # all at once: keeps going
    late = add_subscribers(connected.shop, connected.variant, 3, prefix="late")
    (item,) = restock_progress_list(shop=connected.shop)
    assert item["materialising"] is True and item["eta_seconds"] is None

    # The fan-out catches up with the materialiser: the restock must not complete early.
    drain(restock, materialise=False)
    assert restock.sent == FIRST and restock.state == Restock.State.RUNNING
    assert batches.restock_finish_if_done(restock=restock) is False

    assert _materialise(restock) == 500 - FIRST
    assert restock.materialised_at is not None and not restock.materialising
    rows = _rows(restock)
    assert [r[0] for r in rows] == list(range(1, 501))  # one line, oldest first, no gap
    assert [r[1] for r in rows] == [s.pk for s in subs]  # whoever signed up later is not in it
    assert (restock.total, restock.skipped) == (500, 0)
    assert materialise.materialise_step(restock_id=restock.pk).written == 0  # nothing twice

    drain(restock)
    assert restock.state == Restock.State.COMPLETED
    assert (restock.sent, restock.failed, restock.total) == (500, 0, 500)
    ids = event_ids(klaviyo_sandbox, connected.account_id)
    assert sorted(ids) == sorted(f"notifyme:bis:{restock.pk}:{s.pk}" for s in subs)
    assert set(Subscription.objects.filter(pk__in=[s.pk for s in late])
               .values_list("status", flat=True)) == {Subscription.Status.ACTIVE}
    (item,) = restock_progress_list(shop=connected.shop)
    assert item["materialising"] is False and item["percent"] == 100.0


def test_a_chunk_written_again_adds_nothing(connected: Connected) -> None:
    """A second writer of the same chunk (a re-nudged job next to a live one) inserts no row
    (ON CONFLICT DO NOTHING on (restock, subscription)); its watermark UPDATE then finds the
    watermark moved, so it rolls back (`materialise_step`)."""
    add_subscribers(connected.shop, connected.variant, 200)
    restock = _start(connected)
    stale = Restock.objects.get(pk=restock.pk)  # what a second writer read
    assert materialise.materialise_step(restock_id=restock.pk).written == CHUNK
    again = materialise._write(stale, limit=CHUNK, now=stale.started_at)
    assert again.written == 0
    assert RestockDelivery.objects.filter(restock=restock).count() == FIRST + CHUNK


def test_cool_down_applies_to_rows_written_in_the_background(
    klaviyo_sandbox: Any, connected: Connected
) -> None:
    shop, variant = connected.shop, connected.variant
    first = add_subscribers(shop, variant, 30)
    restock = _start(connected)
    drain(restock)
    assert restock.sent == 30
    variant_update_stock(variant=variant, quantity=0)
    newcomers = add_subscribers(shop, variant, 120, prefix="new")
    # Ten notified shoppers subscribe again: their rows come after the first chunk.
    again = add_subscribers(shop, variant, 10, start=0)
    second = _start(connected, quantity=2)
    assert second.materialising and second.cooldown_since is not None
    _materialise(second)
    skipped = RestockDelivery.objects.filter(restock=second, state="skipped")
    assert sorted(skipped.values_list("subscription_id", flat=True)) == [s.pk for s in again]
    assert all("cool-down" in note for note in skipped.values_list("last_error", flat=True))
    assert (second.total, second.skipped) == (120, 10)
    drain(second)
    assert second.state == Restock.State.COMPLETED and second.sent == 120
    ids = event_ids(klaviyo_sandbox, connected.account_id)
    assert len(ids) == 150 and len(set(ids)) == 150
    assert {f"notifyme:bis:{second.pk}:{s.pk}" for s in newcomers} <= set(ids)
    assert not {s.pk for s in first} & set(
        RestockDelivery.objects.filter(restock=second).values_list("subscription_id", flat=True))


def test_a_later_restock_takes_over_what_was_not_written_and_nobody_is_sent_twice(
    klaviyo_sandbox: Any, connected: Connected
) -> None:
    subs = add_subscribers(connected.shop, connected.variant, 300)
    a = _start(connected)
    materialise.materialise_step(restock_id=a.pk)  # A holds FIRST + CHUNK rows, all in flight
    variant_update_stock(variant=connected.variant, quantity=0)
    b = _start(connected, quantity=3)
    a.refresh_from_db()
    assert a.materialised_at is not None and a.materialised == FIRST + CHUNK
    assert b.exclude_in_flight
    # A's materialiser, still running somewhere, writes nothing more.
    assert materialise.materialise_step(restock_id=a.pk).written == 0
    assert RestockDelivery.objects.filter(restock=a).count() == FIRST + CHUNK
    _materialise(b)
    in_a = set(RestockDelivery.objects.filter(restock=a).values_list("subscription_id",
                                                                      flat=True))
    in_b = set(RestockDelivery.objects.filter(restock=b).values_list("subscription_id",
                                                                      flat=True))
    assert not in_a & in_b and in_a | in_b == {s.pk for s in subs}
    assert b.total == 300 - FIRST - CHUNK
    drain(a)
    drain(b)
    assert a.state == b.state == Restock.State.COMPLETED
    assert a.sent + b.sent == 300
    per_subscriber = Counter(uid.rsplit(":", 1)[1]
                             for uid in event_ids(klaviyo_sandbox, connected.account_id))
    assert len(per_subscriber) == 300 and set(per_subscriber.values()) == {1}


def test_cancel_during_materialisation_stops_it(klaviyo_sandbox: Any,
                                                connected: Connected) -> None:
    add_subscribers(connected.shop, connected.variant, 400)
    restock = _start(connected)
    materialise.materialise_step(restock_id=restock.pk)
    assert restock_cancel(restock=restock) == FIRST + CHUNK
    assert _materialise(restock) == 0
    assert restock.state == Restock.State.CANCELLED and restock.materialised_at is not None
    assert RestockDelivery.objects.filter(restock=restock).count() == FIRST + CHUNK
    assert not RestockDelivery.objects.filter(restock=restock, state="pending").exists()
    assert (restock.total, restock.skipped, restock.sent) == (0, FIRST + CHUNK, 0)
    drain(restock)
    assert event_ids(klaviyo_sandbox, connected.account_id) == []
    django_rq.get_queue("bulk").empty()
    progress.get_redis().flushdb()
    assert sweep_restocks()["materialise"] == 0  # nothing to resume


def test_the_sweeper_resumes_an_interrupted_materialisation(connected: Connected) -> None:
    add_subscribers(connected.shop, connected.variant, 200)
    restock = _start(connected)
    materialise.materialise_step(restock_id=restock.pk)
    # The job died (killed worker) and Redis lost its queue: only the watermark remains.
    django_rq.get_queue("bulk").empty()
    progress.get_redis().flushdb()
    assert sweep_restocks()["materialise"] == 1
    assert _bulk_jobs().count("notifyme.restocks.jobs.run_restock_materialise") == 1
    assert sweep_restocks()["materialise"] == 0  # queued once, not twice
    django_rq.get_queue("bulk").empty()
    progress.mark_materialising(restock.pk)
    assert sweep_restocks()["materialise"] == 0  # a job is writing
    progress.get_redis().flushdb()
    assert _materialise(restock) == 200 - FIRST - CHUNK
    assert restock.total == 200 and restock.materialised_at is not None
    assert sweep_restocks()["materialise"] == 0


def test_batched_first_batch_larger_than_the_first_chunk(klaviyo_sandbox: Any,
                                                        connected: Connected) -> None:
    """The first batch (quantity x per unit) is owed the rows not written yet; the materialiser
    releases them as it writes them, and the later batches and the pause work as before."""
    set_settings(connected.shop, send_mode="batched", subscribers_per_unit=20)
    subs = add_subscribers(connected.shop, connected.variant, 300)
    restock = _start(connected, quantity=5)  # batch of 100 > FIRST
    assert restock.batch_size == 100 and restock.batch_owed == 100 - FIRST
    _materialise(restock)
    assert restock.batch_owed == 0 and restock.total == 300
    released = RestockDelivery.objects.filter(restock=restock, available_at__isnull=False)
    assert sorted(released.values_list("subscription_id", flat=True)) == [
        s.pk for s in subs[:100]]
    drain(restock)
    assert restock.sent == 100 and restock.state == Restock.State.RUNNING
    variant_update_stock(variant=connected.variant, quantity=0)
    restock.refresh_from_db()
    assert restock.next_batch_at is not None
    assert restock_advance(restock_id=restock.pk, now=restock.next_batch_at) == "paused"
    nxt = _start(connected, quantity=1)
    _materialise(nxt)
    assert nxt.total == 200 and nxt.batch_size == 20
    drain(nxt)
    assert len(event_ids(klaviyo_sandbox, connected.account_id)) == 120


def test_pause_during_materialisation_leaves_the_rest_to_the_next_restock(
    klaviyo_sandbox: Any, connected: Connected
) -> None:
    set_settings(connected.shop, send_mode="batched", subscribers_per_unit=2)
    subs = add_subscribers(connected.shop, connected.variant, 300)
    restock = _start(connected, quantity=5)  # batch of 10
    drain(restock, materialise=False)
    variant_update_stock(variant=connected.variant, quantity=0)
    restock.refresh_from_db()
    assert restock_advance(restock_id=restock.pk, now=restock.next_batch_at) == "paused"
    assert _materialise(restock) == 0  # paused: no more rows for it
    nxt = _start(connected, quantity=200)  # a batch of 400 covers everyone left
    _materialise(nxt)
    drain(nxt)
    assert nxt.state == Restock.State.COMPLETED and nxt.sent == 290
    per_subscriber = Counter(uid.rsplit(":", 1)[1]
                             for uid in event_ids(klaviyo_sandbox, connected.account_id))
    assert set(per_subscriber) == {str(s.pk) for s in subs}
    assert set(per_subscriber.values()) == {1}


def test_the_ceiling_is_the_highest_committed_subscription(connected: Connected) -> None:
    subs = add_subscribers(connected.shop, connected.variant, 3)
    assert sql.subscription_ceiling(connection) == max(s.pk for s in subs)


def test_a_small_restock_starts_one_fanout_chain_a_big_one_all(
    connected: Connected, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Each chain takes a slot of Klaviyo's bulk-events limit before it claims: a restock that
    fits one chunk gets one chain, one that is still being written gets them all."""
    settings.RESTOCK_FANOUT_CHAINS = 4
    fanout = "notifyme.restocks.jobs.run_fanout_chunk"
    add_subscribers(connected.shop, connected.variant, 3)
    with django_capture_on_commit_callbacks(execute=True):
        _start(connected)
    assert _bulk_jobs().count(fanout) == 1

    django_rq.get_queue("bulk").empty()
    variant_update_stock(variant=connected.variant, quantity=0)
    add_subscribers(connected.shop, connected.variant, 200, prefix="many")
    with django_capture_on_commit_callbacks(execute=True):
        restock = _start(connected)
    assert restock.materialising
    assert _bulk_jobs().count(fanout) == 4
