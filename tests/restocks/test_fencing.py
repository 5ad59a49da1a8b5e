"""Restock deliveries are fenced like every work row: a worker that lost its lease writes
nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from integrations.klaviyo.client import BulkEvent, KlaviyoClient
from integrations.klaviyo.errors import (
    ErrorItem,
    KlaviyoBadRequestError,
    KlaviyoRateLimitedError,
    KlaviyoUnavailableError,
)
from notifyme.catalog.services import variant_update_stock
from notifyme.delivery import leasing
from notifyme.delivery.calls import Lease, LeaseLost
from notifyme.restocks import fanout, sql
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.restocks.services import detection_of
from tests.restocks.conftest import Connected, add_subscribers

RIVAL = "rival-worker-token"


def _start(connected: Connected, count: int) -> Restock:
    add_subscribers(connected.shop, connected.variant, count)
    restock = detection_of(variant_update_stock(variant=connected.variant, quantity=4)).restock
    assert restock is not None
    return restock


def _take_over(restock: Restock) -> list[int]:
    """Another worker: our lease expired and it claimed the rows under its own token."""
    rows = RestockDelivery.objects.filter(restock=restock)
    rows.update(leased_until=timezone.now() - timedelta(seconds=1))
    return leasing.claim(rows, limit=1000, lease_seconds=60, token=RIVAL)


def _untouched(restock: Restock, count: int) -> None:
    rows = RestockDelivery.objects.filter(restock=restock)
    assert rows.filter(state=RestockDelivery.State.PENDING, lease_token=RIVAL,
                       attempts=0, leased_until__isnull=False).count() == count
    restock.refresh_from_db()
    assert (restock.sent, restock.failed, restock.skipped) == (0, 0, 0)


def test_outcome_writes_need_the_current_token(connected: Connected) -> None:
    restock = _start(connected, 5)
    rows = RestockDelivery.objects.filter(restock=restock)
    ids = leasing.claim(rows, limit=10, lease_seconds=60, token="old")
    assert sorted(_take_over(restock)) == sorted(ids)
    now = timezone.now()
    assert sql.mark_sent(connection, restock_id=restock.pk, ids=ids, token="old", now=now) == 0
    assert sql.mark_final(connection, ids=ids, token="old", state="failed", error="x") == 0
    assert leasing.release(RestockDelivery, ids, token="old", delay=5) == 0
    leasing.retry(RestockDelivery, ids, token="old", error="Klaviyo 503")
    assert leasing.extend(RestockDelivery, ids, token="old", lease_seconds=60) == 0
    _untouched(restock, 5)
    assert sql.mark_sent(connection, restock_id=restock.pk, ids=ids, token=RIVAL, now=now) == 5
    restock.refresh_from_db()
    assert restock.sent == 5


def test_outcome_helpers_refuse_to_run_without_a_token(connected: Connected) -> None:
    restock = _start(connected, 1)
    ids = list(RestockDelivery.objects.filter(restock=restock).values_list("id", flat=True))
    with pytest.raises(ValueError, match="token"):
        leasing.release(RestockDelivery, ids, token="")


def _ok(client: KlaviyoClient, events: list[BulkEvent]) -> None:
    return None


def _raise(error: Exception) -> Callable[[KlaviyoClient, list[BulkEvent]], None]:
    def send(client: KlaviyoClient, events: list[BulkEvent]) -> None:
        raise error
    return send


@pytest.mark.parametrize("answer", [
    _ok,  # Klaviyo accepted: the job may not mark the rival's rows sent
    _raise(KlaviyoUnavailableError(status=503)),  # nor back them off
    _raise(KlaviyoRateLimitedError(status=429, retry_after=1)),  # nor hand them back
    _raise(KlaviyoBadRequestError(status=400, errors=[ErrorItem(
        detail="bad email", pointer="/data/attributes/events-bulk-create/data/0/attributes")])),
], ids=["sent", "retry", "rate-limited", "pointed-400"])
def test_a_job_that_lost_its_lease_mid_call_writes_nothing(
    connected: Connected, monkeypatch: pytest.MonkeyPatch, answer: Any,
) -> None:
    restock = _start(connected, 20)
    taken: list[int] = []

    def slow_call(client: KlaviyoClient, events: list[BulkEvent]) -> None:
        if not taken:  # the call outlived the lease; another worker took the chunk
            taken.extend(_take_over(restock))
        answer(client, events)

    monkeypatch.setattr(fanout, "_deliver", slow_call)
    result = fanout.fanout_send_chunk(restock_id=restock.pk)
    assert result.claimed == 20 and len(taken) == 20
    assert (result.sent, result.failed, result.released) == (0, 0, 0)
    _untouched(restock, 20)


def test_a_long_chunk_renews_its_lease_and_notices_a_takeover(connected: Connected) -> None:
    restock = _start(connected, 3)
    rows = RestockDelivery.objects.filter(restock=restock)
    lease = Lease(model=RestockDelivery, token=leasing.new_token(), seconds=60)
    lease.add(leasing.claim(rows, limit=10, lease_seconds=60, token=lease.token))
    before = max(rows.values_list("leased_until", flat=True))
    lease.renew_at = 0.0  # half the lease is gone
    lease.keep_alive()
    assert min(rows.values_list("leased_until", flat=True)) > before
    _take_over(restock)
    lease.renew_at = 0.0
    with pytest.raises(LeaseLost):
        lease.keep_alive()
