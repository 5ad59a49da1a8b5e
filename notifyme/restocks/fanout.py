"""The restock handler's job: claim ≤1,000 due deliveries, send ONE Klaviyo request, record it.

Contract of `fanout_send_chunk(restock_id=...)` (what the `bulk` queue job calls):
- Takes a slot from the shared limiter before it claims (`bulk_create_events`); when it must
  wait it claims nothing and a delayed nudge (sub-second precision, `notifyme.delivery.nudges`)
  comes back at the window's end — the worker never sleeps, and waiting costs no writes. (A job
  that finds nothing to claim after all wastes one slot: only at the end.)
- Claims due rows under a fresh lease token (many workers never hold the same row), and as soon
  as it holds a full chunk it enqueues its successor, so `RESTOCK_FANOUT_CHAINS` chunks per
  restock are in flight. A chain that catches up with the materialiser (a short claim while
  rows are still being written) is counted and restarted after the next chunk is written
  (`nudging.fanout_starved` / `fanout_regrow`).
- Sends through the pipeline's call wrapper (`notifyme.delivery.calls`): the lease is renewed at
  half-time before each call, the SyncAttempt is written with the outcome, and the outcomes are
  the pipeline's four: wait (429 / limiter: rows back at the cool-down's end, no attempt),
  merchant must act (401/403: connection halted, rows back untouched for the reconnect), retry
  (5xx / timeouts: backoff, one attempt counted), record fails alone (400 with pointers).
- Success: rows → sent and their subscriptions → notified in one transaction, counters in SQL.
- Every outcome is fenced by the claim's token: a worker that lost its lease (another claimed
  the rows under a new token) writes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from integrations.klaviyo import ratelimit
from integrations.klaviyo.client import BulkEvent, KlaviyoClient
from integrations.klaviyo.errors import KlaviyoBadRequestError, KlaviyoError
from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.services import connection_record_error, connection_record_success
from notifyme.delivery import conf, leasing, pointers
from notifyme.delivery.calls import (
    Blocked,
    Delivery,
    Halted,
    Lease,
    LeaseLost,
    limiter_account,
    send_pointed,
)
from notifyme.delivery.outcome import Outcome
from notifyme.delivery.sql import relax_commit
from notifyme.restocks import batches, nudging, progress, sql
from notifyme.restocks.events import DeliveryRow, build_events, event_properties
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription

logger = logging.getLogger(__name__)
BULK, SINGLE = "bulk_create_events", "create_event"  # the limiter's operation names
State = RestockDelivery.State


def fanout_send_chunk(*, restock_id: int, from_start: bool = False) -> Outcome:
    """Send one chunk of a restock (see the module contract). Safe to run any number of times.

    `from_start`: claim from the first position instead of after the claim hint — what the
    delayed nudge that follows handed-back rows asks for, so those rows keep their place."""
    result = Outcome()
    restock = (
        Restock.objects.select_related("shop", "variant__product").filter(pk=restock_id).first()
    )
    if restock is None or restock.state == Restock.State.CANCELLED:
        return result
    link = KlaviyoConnection.objects.select_related("shop").filter(
        shop_id=restock.shop_id).first()
    refused = _refusal(link)
    if refused or link is None:
        result.notes.append(refused)  # rows wait; the reconnect (or reinstall) resumes them
        return result
    progress.mark_alive(restock_id)
    # The limiter first: a job that must wait has claimed nothing, so waiting costs no writes
    # (when the window is full every job would otherwise claim, build and hand back 1,000 rows).
    wait = ratelimit.acquire(account_id=limiter_account(link), operation=BULK)
    if wait > 0:
        nudging.fanout_nudge_later(restock_id=restock_id, seconds=wait)
        result.wait = wait
        return result
    lease = Lease(model=RestockDelivery, token=leasing.new_token(),
                  seconds=conf.restock_lease_seconds())
    ids = _claim(restock_id, token=lease.token, from_start=from_start,
                 materialising=restock.materialising)
    result.claimed = len(ids)
    if not ids:
        batches.restock_finish_if_done(restock=restock)
        return result
    lease.add(ids)
    result.full = len(ids) == conf.restock_chunk_size()
    if result.full:
        nudging.fanout_continue(restock_id=restock_id)  # the next chunk goes while this one sends
    rows = [DeliveryRow(*row) for row in sql.claimed_rows(connection, ids=ids)]
    last_position = rows[-1].position
    progress.raise_claim_hint(restock_id, last_position)
    chunk = _Chunk(restock=restock, lease=lease, result=result)
    inactive = [r.id for r in rows if r.status != Subscription.Status.ACTIVE]
    if inactive:
        chunk.finish(inactive, State.SKIPPED, "Unsubscribed before the alert was sent.")
    try:
        chunk.send(link, [r for r in rows if r.status == Subscription.Status.ACTIVE])
    except LeaseLost:
        logger.warning("restock %s: lease lost mid-chunk; another worker has the rows",
                       restock_id)
        result.notes.append("lease lost")
        return result
    if (result.released or result.wait > 0) and not result.halted:
        nudging.fanout_nudge_later(restock_id=restock_id, seconds=result.wait)
    elif not result.full or not _pending_after(restock_id, last_position):
        # The last chunk to land may belong to any job (its successor found nothing to claim
        # while it was still in flight), so a job whose chunk was the tail checks.
        batches.restock_finish_if_done(restock=restock)
    return result


def _refusal(link: KlaviyoConnection | None) -> str:
    """Why this shop's deliveries may not go now ("" when they may): no Klaviyo call is made
    for a shop that is not syncing, nor for one that uninstalled the app."""
    if link is None or not link.is_syncing:
        return "connection not syncing"
    if link.shop.state != Shop.State.INSTALLED:
        return "shop uninstalled"
    return ""


def _claim(restock_id: int, *, token: str, from_start: bool, materialising: bool) -> list[int]:
    """Lease due rows after the claim hint first, then anywhere (retries sit below it). Short
    while the restock is `materialising`: this chain caught up with the materialiser."""
    rows = RestockDelivery.objects.filter(restock_id=restock_id)
    limit, lease = conf.restock_chunk_size(), conf.restock_lease_seconds()
    hint = 0 if from_start else progress.claim_hint(restock_id)
    ids: list[int] = []
    with transaction.atomic():
        relax_commit(connection)  # a lease lost in a database crash is only re-claimed
        if hint:
            ids = leasing.claim(rows.filter(position__gt=hint), limit=limit,
                                lease_seconds=lease, token=token, order_by=("position",))
        if len(ids) < limit:
            ids += leasing.claim(rows, limit=limit - len(ids), lease_seconds=lease,
                                 token=token, order_by=("position",))
    if len(ids) < limit and materialising:
        nudging.fanout_starved(restock_id=restock_id)
    return ids


def _pending_after(restock_id: int, position: int) -> bool:
    return RestockDelivery.objects.filter(
        restock_id=restock_id, state=State.PENDING, position__gt=position
    ).exists()


def _operation(events: int) -> str:
    return SINGLE if events == 1 else BULK


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


def _attempts(rows: list[DeliveryRow]) -> int:
    return max((r.attempts for r in rows), default=0)


def _describe(error: KlaviyoError) -> str:
    details = "; ".join(item.detail or item.title for item in error.errors if item.detail or
                        item.title) or str(error)
    reference = f" (Klaviyo error id {error.error_id})" if error.error_id else ""
    return f"Klaviyo refused the event: {details}{reference}"


class _Chunk:
    """One job's claimed rows of one restock, and every outcome written under its token."""

    def __init__(self, *, restock: Restock, lease: Lease, result: Outcome) -> None:
        self.restock = restock
        self.lease = lease
        self.result = result
        self.live: list[DeliveryRow] = []  # the rows of the request in flight

    def send(self, link: KlaviyoConnection, rows: list[DeliveryRow]) -> None:
        ctx = Delivery.open(link, defer_attempts=True)
        ctx.lease = self.lease
        properties = event_properties(self.restock)

        def build(live: list[DeliveryRow]) -> tuple[list[DeliveryRow], list[BulkEvent]]:
            events, event_rows, unusable = build_events(live, properties)
            if unusable:
                self.finish([r.id for r in unusable], State.FAILED,
                            "The subscriber has no email or phone left to alert.")
            self.live = event_rows
            return event_rows, events

        def pointed(named: list[tuple[DeliveryRow, str, str]],
                    error: KlaviyoBadRequestError) -> list[DeliveryRow]:
            bad = [row for row, _, _ in named]
            self.finish([r.id for r in bad], State.FAILED, _describe(error))
            return bad

        def whole(rows: list[DeliveryRow], error: KlaviyoBadRequestError) -> None:
            self.finish([r.id for r in rows], State.FAILED, _describe(error))

        try:
            sent = send_pointed(
                ctx, _operation, rows, build=build, send=_deliver, base=pointers.EVENTS,
                on_pointed=pointed, on_unattributed=whole, held=BULK,
                subscription_ids=lambda owners: [r.subscription_id for r in owners],
                retry_count=lambda _: _attempts(rows))
            if sent:
                self.mark_sent(ctx, link, sent)
        except Blocked as blocked:
            self.release(blocked.wait, "Rate limited by Klaviyo; retrying." if blocked.error
                         else "")
        except Halted as halted:
            self.result.halted = True
            self.release(0.0, str(halted.error))
        except KlaviyoError as error:
            self.on_error(link, error)
        finally:
            ctx.flush_attempts()  # anything not written with an outcome (errors, exceptions)

    def on_error(self, link: KlaviyoConnection, error: KlaviyoError) -> None:
        """An error that is neither a wait nor a halt: retry (outages) or fail (the rest)."""
        ids = [r.id for r in self.live]
        if error.retryable:
            connection_record_error(connection=link, error=error)
            retried = leasing.retry(RestockDelivery, ids, token=self.lease.token,
                                    error=str(error), attempts=_attempts(self.live) + 1)
            self.lease.discard(ids)
            self.result.released += retried.rows
            self.result.come_back_in(retried.delay)
        else:
            self.finish(ids, State.FAILED, _describe(error))

    def release(self, wait: float, error: str) -> None:
        """Rows back to the line without counting an attempt (rate limits, halts)."""
        ids = [r.id for r in self.live]
        self.result.released += leasing.release(RestockDelivery, ids, token=self.lease.token,
                                                delay=wait, last_error=error[:2000])
        self.lease.discard(ids)
        self.result.come_back_in(wait)

    def finish(self, ids: list[int], state: str, error: str) -> None:
        with transaction.atomic():
            changed = sql.mark_final(connection, ids=ids, token=self.lease.token, state=state,
                                     error=error)
            if state == State.FAILED:
                batches.restock_count(restock_id=self.restock.pk, failed=changed)
                self.result.failed += changed
            else:
                batches.restock_count(restock_id=self.restock.pk, skipped=changed)
                self.result.skipped += changed
        self.lease.discard(ids)

    def mark_sent(self, ctx: Delivery, link: KlaviyoConnection, rows: list[DeliveryRow]) -> None:
        """One transaction: the call's SyncAttempt, rows → sent, subscriptions → notified, the
        counter, the connection's last sync. Its commit does not wait for the WAL flush
        (`relax_commit`: losing it in a database crash only causes a deduplicated resend)."""
        now: datetime = timezone.now()
        ids = [r.id for r in rows]
        with transaction.atomic():
            relax_commit(connection)
            ctx.flush_attempts()
            sent = sql.mark_sent(connection, restock_id=self.restock.pk, ids=ids,
                                 token=self.lease.token, now=now)
            connection_record_success(connection=link)
        self.lease.discard(ids)
        self.result.sent += sent
        progress.record_sent(self.restock.pk, sent)
