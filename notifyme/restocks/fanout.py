"""One fan-out step: claim ≤1,000 due deliveries, send ONE Klaviyo request, record the outcome.

Contract of `fanout_send_chunk(restock_id=...)` (what the `bulk` queue job calls):
- Claims due rows with a lease (many workers never hold the same row), and as soon as it holds
  a full chunk it enqueues its successor, so `conf.chains()` chunks per restock are in flight.
- Takes a slot from the shared limiter before it claims (`bulk_create_events`; `create_event`
  too when only one event is left); when it must wait it claims nothing and a delayed nudge
  (sub-second precision, `notifyme.delivery.nudges`) comes back at the window's end — the worker
  never sleeps. (A job that finds nothing to claim after all wastes one slot: only at the end.)
- Success: rows → sent and their subscriptions → notified in one transaction, counters with F().
  400 with pointers: those rows fail alone with Klaviyo's detail, the rest are resent.
  429: account cool-down + rows back at its end. 5xx/timeouts: rows back with backoff.
  401/403: the connection is halted (needs attention); rows stay pending for the reconnect.
- Every call leaves a SyncAttempt (through the connection engineer's `attempt_recorder`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from django.db import connection, transaction
from django.utils import timezone

from integrations.klaviyo import ratelimit
from integrations.klaviyo.client import Attempt, BulkEvent, KlaviyoClient, Observer
from integrations.klaviyo.errors import (
    KlaviyoBadRequestError,
    KlaviyoError,
    KlaviyoRateLimitedError,
)
from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.services import (
    attempt_recorder,
    client_for,
    connection_halt,
    connection_record_error,
    connection_record_success,
)
from notifyme.delivery import leasing
from notifyme.restocks import batches, conf, progress, sql
from notifyme.restocks.events import DeliveryRow, build_events, event_properties, pointer_index
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.subscriptions.models import Subscription

logger = logging.getLogger(__name__)
_session: tuple[int, requests.Session] | None = None
BULK, SINGLE = "bulk_create_events", "create_event"  # the limiter's operation names


@dataclass
class ChunkResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0
    retry_in: float | None = None
    halted: bool = False
    notes: list[str] = field(default_factory=list)


def _http_session() -> requests.Session:
    """One keep-alive session per process (a forked work-horse must not share its parent's)."""
    global _session
    if _session is None or _session[0] != os.getpid():
        _session = (os.getpid(), requests.Session())
    return _session[1]


def fanout_send_chunk(*, restock_id: int, from_start: bool = False) -> ChunkResult:
    """Send one chunk of a restock (see the module contract). Safe to run any number of times.

    `from_start`: claim from the first position instead of after the claim hint — what the
    delayed nudge that follows handed-back rows asks for, so those rows keep their place."""
    from notifyme.restocks import jobs

    result = ChunkResult()
    restock = (
        Restock.objects.select_related("shop", "variant__product").filter(pk=restock_id).first()
    )
    if restock is None or restock.state == Restock.State.CANCELLED:
        return result
    link = KlaviyoConnection.objects.select_related("shop").filter(
        shop_id=restock.shop_id).first()
    if link is None or not link.is_syncing:
        result.notes.append("connection not syncing")  # rows wait; the reconnect resumes them
        return result
    progress.mark_alive(restock_id)
    # The limiter first: a job that must wait has claimed nothing, so waiting costs no writes
    # (when the window is full every job would otherwise claim, build and hand back 1,000 rows).
    wait = ratelimit.acquire(account_id=link.account_id, operation=BULK)
    if wait > 0:
        jobs.fanout_nudge_later(restock_id=restock_id, seconds=wait)
        result.retry_in = wait
        return result
    ids = _claim(restock_id, from_start=from_start)
    result.claimed = len(ids)
    if not ids:
        batches.restock_finish_if_done(restock=restock)
        return result
    full = len(ids) == conf.chunk_size()
    if full:
        jobs.fanout_continue(restock_id=restock_id)  # the next chunk goes while this one sends
    rows = [DeliveryRow(*row) for row in sql.claimed_rows(connection, ids=ids)]
    last_position = rows[-1].position
    progress.raise_claim_hint(restock_id, last_position)
    inactive = [r.id for r in rows if r.status != Subscription.Status.ACTIVE]
    if inactive:
        _finish(restock, inactive, RestockDelivery.State.SKIPPED,
                "Unsubscribed before the alert was sent.", result)
    _send(restock, link, [r for r in rows if r.status == Subscription.Status.ACTIVE], result)
    if result.retry_in is not None and not result.halted:
        jobs.fanout_nudge_later(restock_id=restock_id, seconds=result.retry_in)
    elif not full or not _pending_after(restock_id, last_position):
        # The last chunk to land may belong to any job (its successor found nothing to claim
        # while it was still in flight), so a job whose chunk was the tail checks.
        batches.restock_finish_if_done(restock=restock)
    return result


def _claim(restock_id: int, *, from_start: bool) -> list[int]:
    """Lease due rows after the claim hint first, then anywhere (retries sit below it)."""
    rows = RestockDelivery.objects.filter(restock_id=restock_id)
    limit, lease = conf.chunk_size(), conf.lease_seconds()
    hint = 0 if from_start else progress.claim_hint(restock_id)
    ids: list[int] = []
    with transaction.atomic():
        sql.relax_commit(connection)  # a lease lost in a database crash is only re-claimed
        if hint:
            ids = leasing.claim(rows.filter(position__gt=hint), limit=limit,
                                lease_seconds=lease, order_by=("position",))
        if len(ids) < limit:
            ids += leasing.claim(rows, limit=limit - len(ids), lease_seconds=lease,
                                 order_by=("position",))
    return ids


def _pending_after(restock_id: int, position: int) -> bool:
    return RestockDelivery.objects.filter(
        restock_id=restock_id, state=RestockDelivery.State.PENDING, position__gt=position
    ).exists()


def _send(restock: Restock, link: KlaviyoConnection, rows: list[DeliveryRow],
          result: ChunkResult) -> None:
    properties = event_properties(restock)
    attempts = _Attempts(attempt_recorder(shop=restock.shop, retry_count=_attempts(rows)))
    client = client_for(link, session=_http_session(), observer=attempts.append)
    try:
        _send_rounds(restock, link, client, rows, properties, result, attempts)
    finally:
        attempts.flush()  # anything not written with an outcome (errors, exceptions)


class _Attempts(list[Attempt]):
    """Holds the call's SyncAttempt until the outcome's transaction writes both together."""

    def __init__(self, recorder: Observer) -> None:
        super().__init__()
        self.recorder = recorder

    def flush(self) -> None:
        while self:
            self.recorder(self.pop(0))


def _send_rounds(restock: Restock, link: KlaviyoConnection, client: KlaviyoClient,
                 rows: list[DeliveryRow], properties: dict[str, Any], result: ChunkResult,
                 attempts: _Attempts) -> None:
    held: str | None = BULK  # the slot taken before the claim
    for _round in range(5):  # each round drops at least one pointed-at row, or ends
        events, event_rows, unusable = build_events(rows, properties)
        if unusable:
            _finish(restock, [r.id for r in unusable], RestockDelivery.State.FAILED,
                    "The subscriber has no email or phone left to alert.", result)
        if not events:
            return
        wait = _acquire(link.account_id, events, held)
        held = None
        if wait > 0:
            _release([r.id for r in event_rows], wait, "", result)
            return
        try:
            _deliver(client, events)
        except KlaviyoBadRequestError as error:
            bad = _pointed_rows(error, event_rows)
            if not bad or len(events) == 1:
                bad = event_rows  # not attributable to single events: the whole request is bad
            _finish(restock, [r.id for r in bad], RestockDelivery.State.FAILED,
                    _describe(error), result)
            bad_ids = {r.id for r in bad}
            rows = [r for r in event_rows if r.id not in bad_ids]
            continue
        except KlaviyoError as error:
            _on_error(restock, link, event_rows, error, result)
            return
        _mark_sent(restock, link, event_rows, result, attempts)
        return


def _attempts(rows: list[DeliveryRow]) -> int:
    return max((r.attempts for r in rows), default=0)


def _acquire(account_id: str, events: list[BulkEvent], held: str | None) -> float:
    """0.0 = a slot is ours (or already `held` for this operation); else the wait (the rows go
    back, a delayed nudge resumes them)."""
    operation = SINGLE if len(events) == 1 else BULK
    if operation == held:
        return 0.0
    return ratelimit.acquire(account_id=account_id, operation=operation)


def _deliver(client: KlaviyoClient, events: list[BulkEvent]) -> None:
    """One request: `create_event` for a lone event, else one bulk request whose shared
    metric and properties (one restock) are serialized once."""
    first = events[0]
    if len(events) == 1:
        client.create_event(metric=first.metric, profile=first.profile,
                            properties=first.properties, unique_id=first.unique_id)
    else:
        client.bulk_create_events_shared(
            metric=first.metric, properties=first.properties,
            recipients=[(event.profile, event.unique_id) for event in events])


def _pointed_rows(error: KlaviyoBadRequestError, rows: list[DeliveryRow]) -> list[DeliveryRow]:
    indexes = {pointer_index(p) for p in error.pointers}
    return [rows[i] for i in sorted(i for i in indexes if i is not None and i < len(rows))]


def _describe(error: KlaviyoError) -> str:
    details = "; ".join(item.detail or item.title for item in error.errors if item.detail or
                        item.title) or str(error)
    reference = f" (Klaviyo error id {error.error_id})" if error.error_id else ""
    return f"Klaviyo refused the event: {details}{reference}"


def _on_error(restock: Restock, link: KlaviyoConnection, rows: list[DeliveryRow],
              error: KlaviyoError, result: ChunkResult) -> None:
    ids = [r.id for r in rows]
    if isinstance(error, KlaviyoRateLimitedError):
        wait = ratelimit.cool_down_after(account_id=link.account_id, retry_after=error.retry_after)
        _release(ids, wait, "Rate limited by Klaviyo; retrying.", result)
    elif error.merchant_must_act:
        connection_halt(connection=link, error=error)
        result.halted = True
        _release(ids, 0.0, str(error), result)
    elif error.retryable:
        connection_record_error(connection=link, error=error)
        wait = leasing.retry(RestockDelivery, ids, error=str(error),
                             attempts=_attempts(rows) + 1)
        result.released += len(ids)
        result.retry_in = max(result.retry_in or 0.0, wait)
    else:
        _finish(restock, ids, RestockDelivery.State.FAILED, _describe(error), result)


def _release(ids: list[int], wait: float, error: str, result: ChunkResult) -> None:
    """Rows back to the line without counting an attempt (rate limits, halts)."""
    result.released += leasing.release(RestockDelivery, ids, delay=wait, last_error=error[:2000])
    result.retry_in = max(result.retry_in or 0.0, wait)


def _finish(restock: Restock, ids: list[int], state: str, error: str,
            result: ChunkResult) -> None:
    with transaction.atomic():
        changed = sql.mark_final(connection, ids=ids, state=state, error=error)
        if state == RestockDelivery.State.FAILED:
            batches.restock_count(restock_id=restock.pk, failed=changed)
            result.failed += changed
        else:
            batches.restock_count(restock_id=restock.pk, skipped=changed)
            result.skipped += changed


def _mark_sent(restock: Restock, link: KlaviyoConnection, rows: list[DeliveryRow],
               result: ChunkResult, attempts: _Attempts) -> None:
    """One transaction: the call's SyncAttempt, rows → sent, subscriptions → notified, the
    counter, the connection's last sync. Its commit does not wait for the WAL flush (see
    `sql.relax_commit`: losing it in a database crash only causes a deduplicated resend)."""
    now: datetime = timezone.now()
    with transaction.atomic():
        sql.relax_commit(connection)
        attempts.flush()
        sent = sql.mark_sent(connection, restock_id=restock.pk, ids=[r.id for r in rows],
                             now=now)
        connection_record_success(connection=link)
    result.sent += sent
    progress.record_sent(restock.pk, sent)
