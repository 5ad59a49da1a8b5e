"""`run_shop`: what one `sync_shop` job does for one shop, start to finish.

1. Clear the lane's nudge marker (a nudge arriving from now on enqueues a successor).
2. Check the connection: not CONNECTED -> return at once, rows untouched (they resume when the
   merchant reconnects: `connection_connect` nudges). An uninstalled shop likewise: its rows are
   held, no Klaviyo call is made, and a reinstall nudges them (`services.outbox_resume`).
3. Rounds, within a time budget: poll due import jobs, claim due rows (`sync` lane: up to 50,
   newest first, so a fresh signup goes first; `bulk` lane: up to 10,000, oldest first), hand
   PROFILE_SYNC rows to `profile_sync` and withdrawals to `consent_out`. A full bulk claim
   enqueues one more bulk job first, so idle workers join a big backlog (at most one job per
   shop is ever *queued*, which keeps the bulk queue fair between merchants). A bulk job also
   ends after a round when an interactive `sync` job is waiting, so no signup waits behind more
   than one round of someone else's backlog.
4. Follow-up before returning: due rows left -> nudge (the `bulk` lane when there are many);
   rows due later (rate-limit wait, backoff, next import poll) -> a delayed nudge for then. The
   minute sweeper is the safety net for everything else.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db.models import Min
from django.utils import timezone
from redis.exceptions import RedisError

from integrations.klaviyo import ratelimit
from integrations.klaviyo.errors import KlaviyoError
from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.services import connection_halt
from notifyme.core.crypto import SecretDecryptionError
from notifyme.delivery import conf, leasing, nudges
from notifyme.delivery.calls import Blocked, Delivery, Halted, Lease, LeaseLost
from notifyme.delivery.outcome import Outcome
from notifyme.shops.models import Shop
from notifyme.sync import bulk_import, consent_out, lanes, profile_sync, rows, stages
from notifyme.sync.models import ImportBatch, OutboxItem

logger = logging.getLogger(__name__)

SYNC_CLAIM = 50
BUDGET_SECONDS = {"sync": 10.0, "bulk": 20.0}
POLLS_PER_ROUND = 4
#: The binding rate limit of a bulk PROFILE_SYNC round (10/s, 1,000 events per call).
BUDGET_OPERATION = "bulk_create_events"
#: Event calls' worth of rows a bulk claim takes once a window's calls are being spent.
ROUND_CALLS = 3


class KeyUnreadable(KlaviyoError):
    """The stored key no longer decrypts (encryption keys changed): the merchant reconnects."""

    kind = "decrypt_failed"
    merchant_must_act = True


def claim_limit(lane: str) -> int:
    return SYNC_CLAIM if lane == "sync" else int(conf.value("SYNC_BULK_CLAIM"))


def lease_seconds() -> float:
    return conf.value("SYNC_LEASE_SECONDS")


def _poll_imports(ctx: Delivery) -> float:
    """Poll due import jobs of this shop; returns a rate-limit wait (0.0 when none)."""
    token = leasing.new_token()
    ids = leasing.claim(ImportBatch.objects.filter(shop_id=ctx.connection.shop_id),
                        limit=POLLS_PER_ROUND, lease_seconds=lease_seconds(), token=token)
    pending = list(ImportBatch.objects.filter(id__in=ids).order_by("id"))
    while pending:
        batch = pending.pop(0)
        try:
            bulk_import.poll_one(ctx, batch, token)
        except Blocked as blocked:
            leasing.release(ImportBatch, [b.pk for b in [batch, *pending]], token=token,
                            delay=blocked.wait)
            return blocked.wait
        except Halted:
            leasing.release(ImportBatch, [b.pk for b in [batch, *pending]], token=token)
            raise
        except (KlaviyoError, RedisError) as error:  # outage or limiter down: poll later
            leasing.retry(ImportBatch, [batch.pk], token=token, error=str(error))
    return 0.0


def _round(ctx: Delivery, lane: str, bulk_jobs: int = 1) -> Outcome:
    """One claim-and-send round; `bulk_jobs`: this shop's bulk jobs running now, this one
    included."""
    shop_id = ctx.connection.shop_id
    poll_wait = _poll_imports(ctx)
    token = leasing.new_token()
    limit = claim_limit(lane)
    if lane == "bulk":
        # Size the claim to the event calls that can go now: claiming 10,000 rows to send a
        # fraction and hand the rest back costs a load and two writes per row for nothing.
        # The peek takes nothing, so other workers see the same free calls: once this window's
        # calls are being spent, claim at most ROUND_CALLS of them (every worker claiming every
        # free call made about half of each claim go back unsent).
        calls, wait = ratelimit.available(account_id=ctx.account_id, operation=BUDGET_OPERATION)
        if calls == 0:
            return Outcome(wait=max(poll_wait, wait))
        if calls < ratelimit.windows_for(BUDGET_OPERATION)[0].limit:
            calls = min(calls, ROUND_CALLS)
        elif bulk_jobs > 1:
            calls = (calls + 1) // 2  # a fresh window that other bulk jobs are peeking at too
        limit = min(limit, calls * stages.CHUNK)
    # Bulk: oldest due first, straight off the partial (shop, available_at) index, no sort.
    ids = leasing.claim(OutboxItem.objects.filter(shop_id=shop_id), limit=limit,
                        lease_seconds=lease_seconds(), token=token,
                        order_by=("-id",) if lane == "sync" else ("available_at",))
    if lane == "bulk" and len(ids) == limit:
        _nudge(shop_id, "bulk")
    ctx.lease = Lease(model=OutboxItem, token=token, seconds=lease_seconds())
    ctx.lease.add(ids)
    items = rows.load(ids)
    profiles = [i for i in items if i.kind == OutboxItem.Kind.PROFILE_SYNC]
    withdrawals = [i for i in items if i.kind != OutboxItem.Kind.PROFILE_SYNC]
    # Full: the claim got every row it asked for, so run another round (a claim sized down to
    # the free calls included: the next round claims more or learns the wait for the delayed
    # nudge, which costs far less than ending this job and starting another).
    total = Outcome(claimed=len(items), full=len(ids) == limit, wait=poll_wait)
    for part, handler in ((profiles, profile_sync.process), (withdrawals, consent_out.process)):
        if not part or total.halted:
            if part:
                leasing.release(OutboxItem, [i.pk for i in part], token=token)
            continue
        outcome = handler(ctx, part, token=token)
        total.wait = max(total.wait, outcome.wait)
        total.halted = total.halted or outcome.halted
        total.retry_error = total.retry_error or outcome.retry_error
    return total


def _nudge(shop_id: int, lane: str) -> None:
    try:
        lanes.enqueue_shop(shop_id=shop_id, lane=lane)
    except Exception:
        logger.warning("could not nudge %s lane for shop %s; the sweeper will", lane, shop_id)


def follow_up(shop_id: int, lane: str, *, wait: float = 0.0) -> str:
    """Make sure someone comes back for what is left; returns what was done (for tests/logs).

    `wait`: the rate limiter said "not before" — due rows are then nudged after it, not now
    (an immediate job would only find the budget still spent).
    """
    now = timezone.now()
    pending = OutboxItem.objects.filter(shop_id=shop_id, state=OutboxItem.State.PENDING)
    due = leasing.due(pending, now=now)
    count = len(due.values_list("id", flat=True)[: SYNC_CLAIM + 1])
    if count:
        target = "bulk" if lane == "bulk" or count > SYNC_CLAIM else "sync"
        if wait > 0:
            lanes.later_shop(shop_id=shop_id, lane=target, seconds=wait)
            return f"later {wait:.2f}s ({target})"
        _nudge(shop_id, target)
        return f"nudged {target}"
    later = [
        pending.filter(leased_until__isnull=True).aggregate(t=Min("available_at"))["t"],
        ImportBatch.objects.filter(shop_id=shop_id, state=ImportBatch.State.PENDING,
                                   leased_until__isnull=True)
        .aggregate(t=Min("available_at"))["t"],
    ]
    upcoming = [t for t in later if t is not None]
    if not upcoming:
        return "idle"
    seconds = max(0.0, (min(upcoming) - now).total_seconds())
    lanes.later_shop(shop_id=shop_id, lane=lane, seconds=seconds)
    return f"later {seconds:.2f}s"


def run_shop(shop_id: int, lane: str = "sync") -> dict[str, Any]:
    """Drain this shop's due outbox rows on `lane` (see module docstring); returns a summary."""
    lanes.job_started(shop_id=shop_id, lane=lane)
    connection = (KlaviyoConnection.objects.select_related("shop")
                  .filter(shop_id=shop_id).first())
    if connection is None or not connection.is_syncing:
        return {"skipped": "not syncing"}
    if connection.shop.state != Shop.State.INSTALLED:
        return {"skipped": "shop uninstalled"}  # rows held until a reinstall (or shop/redact)
    try:
        ctx = Delivery.open(connection)
    except SecretDecryptionError:
        connection_halt(connection=connection, error=KeyUnreadable(message="key unreadable"))
        return {"halted": True}
    job_token = leasing.new_token() if lane == "bulk" else ""
    try:
        return _rounds(ctx, shop_id, lane, job_token)
    finally:
        if job_token:
            nudges.bulk_finished(shop_id=shop_id, token=job_token)


def _rounds(ctx: Delivery, shop_id: int, lane: str, job_token: str) -> dict[str, Any]:
    summary: dict[str, Any] = {"claimed": 0, "rounds": 0}
    deadline = time.monotonic() + BUDGET_SECONDS[lane]
    while True:
        # Registers this job for the others to see, and counts them for this round's claim.
        bulk_jobs = nudges.bulk_running(shop_id=shop_id, token=job_token) if job_token else 1
        try:
            outcome = _round(ctx, lane, bulk_jobs)
        except Halted:
            outcome = Outcome(halted=True)
        except LeaseLost:
            logger.warning("shop %s: lease lost mid-round; another worker has the rows", shop_id)
            break
        summary["claimed"] += outcome.claimed
        summary["rounds"] += 1
        if outcome.halted:
            summary["halted"] = True
            return summary
        if (outcome.wait or outcome.retry_error or lane == "sync"
                or time.monotonic() > deadline
                or not outcome.full
                or nudges.interactive_waiting()):  # yield the worker to a waiting signup
            summary["wait"] = outcome.wait
            break
    summary["follow_up"] = follow_up(shop_id, lane, wait=float(summary.get("wait") or 0.0))
    summary["seconds"] = round(time.monotonic() - deadline + BUDGET_SECONDS[lane], 3)
    logger.info("sync shop=%s lane=%s %s", shop_id, lane, summary)
    return summary
