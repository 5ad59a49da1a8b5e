"""How the fan-out meets Klaviyo's failures: bad records, 429s, outages, revoked keys."""

from __future__ import annotations

from typing import Any

import django_rq

from integrations.klaviyo import ratelimit
from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt
from integrations.klaviyo.services import connection_connect
from notifyme.catalog.services import variant_update_stock
from notifyme.restocks.fanout import fanout_send_chunk
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.restocks.services import detection_of
from notifyme.subscriptions.models import Subscription
from tests.restocks.conftest import (
    Connected,
    add_subscribers,
    drain,
    event_ids,
    materialise_all,
)


def _start(connected: Connected, count: int) -> Restock:
    add_subscribers(connected.shop, connected.variant, count)
    restock = detection_of(variant_update_stock(variant=connected.variant, quantity=4)).restock
    assert restock is not None
    return restock


def test_a_400_pointing_at_events_fails_only_those(klaviyo_sandbox: Any, connected: Connected
                                                   ) -> None:
    restock = _start(connected, 40)
    bad = list(Subscription.objects.order_by("id")[:40])[12]
    # By hand: signup validation would refuse it; a row Klaviyo rejects is what is tested.
    Subscription.objects.filter(pk=bad.pk).update(email="not-an-email@")
    drain(restock)
    assert restock.sent == 39 and restock.failed == 1
    assert restock.state == Restock.State.COMPLETED
    failed = RestockDelivery.objects.get(state=RestockDelivery.State.FAILED)
    assert failed.subscription_id == bad.pk and "email" in failed.last_error.lower()
    ids = event_ids(klaviyo_sandbox, connected.account_id)
    assert len(ids) == 39 and failed.unique_id not in ids
    attempt = SyncAttempt.objects.get(shop=connected.shop, operation="bulk_create_events",
                                      status_code=400)
    assert "/data/12/" in attempt.error_pointer


def test_429_with_retry_after_hands_rows_back_and_cools_down(klaviyo_sandbox: Any,
                                                             connected: Connected) -> None:
    restock = _start(connected, 50)
    klaviyo_sandbox.admin.set_faults(connected.account_id, next_errors=[429], retry_after=True,
                                     retry_after_seconds=2)
    first = fanout_send_chunk(restock_id=restock.pk)
    assert first.released == 50 and first.wait >= 1.5
    assert ratelimit.cool_down_remaining(account_id=connected.account_id) > 1
    row = RestockDelivery.objects.filter(restock=restock).first()
    assert row is not None and row.leased_until is None and row.attempts == 0
    assert fanout_send_chunk(restock_id=restock.pk).claimed == 0  # not due before the wait
    drain(restock)
    assert restock.sent == 50 and len(set(event_ids(klaviyo_sandbox, connected.account_id))) == 50


def test_429_without_retry_after_uses_a_default_wait(klaviyo_sandbox: Any, connected: Connected
                                                     ) -> None:
    restock = _start(connected, 20)
    klaviyo_sandbox.admin.set_faults(connected.account_id, next_errors=[429], retry_after=False)
    first = fanout_send_chunk(restock_id=restock.pk)
    assert first.released == 20 and first.wait > 0
    drain(restock)
    assert restock.sent == 20 and len(event_ids(klaviyo_sandbox, connected.account_id)) == 20


def test_5xx_and_timeouts_retry_with_backoff(klaviyo_sandbox: Any, connected: Connected) -> None:
    restock = _start(connected, 30)
    klaviyo_sandbox.admin.set_faults(connected.account_id, next_errors=[503])
    first = fanout_send_chunk(restock_id=restock.pk)
    assert first.released == 30 and first.wait >= 0.9
    assert set(RestockDelivery.objects.values_list("attempts", flat=True)) == {1}
    drain(restock, max_wait=10)
    assert restock.sent == 30 and len(event_ids(klaviyo_sandbox, connected.account_id)) == 30


def test_revoked_key_halts_and_reconnect_resumes(klaviyo_sandbox: Any, connected: Connected
                                                 ) -> None:
    restock = _start(connected, 25)
    klaviyo_sandbox.admin.revoke_key(connected.key)
    result = fanout_send_chunk(restock_id=restock.pk)
    assert result.halted and result.released == 25
    link = KlaviyoConnection.objects.get(shop=connected.shop)
    assert link.status == KlaviyoConnection.Status.NEEDS_ATTENTION
    assert link.last_error_kind == "invalid_key" and link.last_error_message
    assert fanout_send_chunk(restock_id=restock.pk).claimed == 0  # halted: nothing is sent
    assert RestockDelivery.objects.filter(state="pending").count() == 25
    new_key = klaviyo_sandbox.admin.create_key(connected.account_id, "all")
    connection_connect(shop=connected.shop, private_key=new_key)
    drain(restock)
    assert restock.sent == 25 and restock.state == Restock.State.COMPLETED
    assert len(set(event_ids(klaviyo_sandbox, connected.account_id))) == 25


def test_missing_scope_halts(klaviyo_sandbox: Any, connected: Connected) -> None:
    restock = _start(connected, 5)
    klaviyo_sandbox.admin.set_key_scopes(connected.key, ["profiles:write", "lists:write"])
    result = fanout_send_chunk(restock_id=restock.pk)
    assert result.halted
    link = KlaviyoConnection.objects.get(shop=connected.shop)
    assert link.status == KlaviyoConnection.Status.NEEDS_ATTENTION
    assert link.last_error_kind == "missing_scopes"
    assert event_ids(klaviyo_sandbox, connected.account_id) == []


def test_a_retried_chunk_keeps_its_place(klaviyo_sandbox: Any, connected: Connected) -> None:
    """Rows handed back (here after a 503) are claimed before fresh rows once they are due:
    the delayed nudge that follows them claims from the start."""
    from django.utils import timezone

    restock = materialise_all(_start(connected, 2500))
    klaviyo_sandbox.admin.set_faults(connected.account_id, next_errors=[503])
    first = fanout_send_chunk(restock_id=restock.pk)
    assert first.released == 1000
    second = fanout_send_chunk(restock_id=restock.pk)  # fresh rows 1001-2000 meanwhile
    assert second.sent == 1000
    RestockDelivery.objects.filter(state="pending", attempts=1).update(
        available_at=timezone.now())  # clock: their retry is due
    third = fanout_send_chunk(restock_id=restock.pk, from_start=True)  # the delayed nudge
    assert third.sent == 1000
    sent_positions = set(RestockDelivery.objects.filter(state="sent").values_list(
        "position", flat=True))
    assert sent_positions == set(range(1, 2001))
    drain(restock)
    assert restock.sent == 2500


def test_reconnect_restarts_a_halted_fanout_at_once(
    klaviyo_sandbox: Any, connected: Connected, django_capture_on_commit_callbacks: Any
) -> None:
    restock = _start(connected, 5)
    klaviyo_sandbox.admin.revoke_key(connected.key)
    assert fanout_send_chunk(restock_id=restock.pk).halted
    bulk = django_rq.get_queue("bulk")
    bulk.empty()
    new_key = klaviyo_sandbox.admin.create_key(connected.account_id, "all")
    with django_capture_on_commit_callbacks(execute=True):
        connection_connect(shop=connected.shop, private_key=new_key)
    # Not a minute later from the sweeper: the reconnect itself queued the fan-out again.
    assert [job.args[0] for job in bulk.jobs if job.func_name.endswith("run_fanout_chunk")]
    assert {job.args[0] for job in bulk.jobs if job.func_name.endswith("run_fanout_chunk")} == {
        restock.pk
    }
