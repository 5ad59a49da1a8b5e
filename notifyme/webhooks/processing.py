"""Processing stored webhook events: claim one shop's due events, run each topic's handler.

`process_shop(shop_domain)` — what one job does:
1. clear the shop's nudge marker (a delivery arriving from now on enqueues a successor);
2. rounds within a time budget: claim up to `WEBHOOK_CLAIM` due events of the shop under a
   fresh token (oldest first: the order Shopify's deliveries reached us), renew the lease at
   half-time while working through them (`calls.Lease`), and process them in order: runs of
   consecutive stock-level events together (`batching`), every other event one at a time;
3. follow-up: due events left -> nudge now; events backing off -> a delayed nudge for then.

`event_process(event, token)` — one event, every outcome written under the claim's token, so a
worker that stalled past its lease writes nothing over the next holder's work:
- the handler's writes and the event's `processed` state commit in one transaction (a lost
  lease rolls both back);
- `EventIgnored` -> `ignored` with the reason;
- `RetryLater`, a Shopify error that waiting can fix (`ShopifyError.retryable`: unavailable,
  throttled, shop locked) or Redis being down -> retried with the pipeline's backoff, and
  failed visibly after `WEBHOOK_MAX_ATTEMPTS` tries (`ReauthRequired` and the other Shopify
  errors fail at once, with Shopify's reason);
- a lost database connection propagates (the job ends; the lease expires and the sweeper
  re-nudges);
- anything else -> this event alone `failed` with the exception's type and message (support
  sees it in the admin); the job goes on with the others.
A processed event of a topic that carries a shopper's personal data has its payload cleared
(`PERSONAL_TOPICS`); after `shop/redact`, every finished event of that shop is cleared too.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Min
from django.utils import timezone
from redis.exceptions import RedisError

from integrations.shopify.errors import ShopifyError
from notifyme.core import logcontext
from notifyme.delivery import leasing
from notifyme.delivery.calls import Lease, LeaseLost
from notifyme.webhooks import batching, conf, lanes
from notifyme.webhooks.context import EventIgnored, RetryLater, WebhookContext
from notifyme.webhooks.models import WebhookEvent
from notifyme.webhooks.topics import TOPICS

logger = logging.getLogger(__name__)

BUDGET_SECONDS = 10.0
RETRYABLE: tuple[type[BaseException], ...] = (RetryLater, RedisError)
#: Topics whose payload holds a shopper's (or the erased shop's) personal data.
PERSONAL_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact",
                             "orders/create", "orders/cancelled"})
PENDING = WebhookEvent.State.PENDING


class _Lost(Exception):
    """The event was taken over while its handler ran: roll the handler's writes back."""


def _reason(error: BaseException) -> str:
    text = getattr(error, "reason", None) or str(error)
    return f"{type(error).__name__}: {text}" if not isinstance(error, RetryLater) else text


def _finish(event: WebhookEvent, token: str, outcome: str) -> None:
    personal = event.topic in PERSONAL_TOPICS
    fields: dict[str, Any] = {"outcome": outcome[:500], "processed_at": timezone.now(),
                              "last_error": ""}
    if personal:
        fields["payload"] = None
    if not leasing.complete(WebhookEvent, [event.pk], token=token,
                            state=WebhookEvent.State.PROCESSED, **fields):
        raise _Lost
    if event.topic == "shop/redact":
        WebhookEvent.objects.filter(shop_domain=event.shop_domain, payload__isnull=False) \
            .exclude(state=PENDING).update(payload=None)


def _retry_or_give_up(event: WebhookEvent, token: str, error: BaseException) -> str:
    reason = _reason(error)
    if event.attempts + 1 >= conf.max_attempts():
        leasing.fail(WebhookEvent, [event.pk], token=token, processed_at=timezone.now(),
                     error=f"gave up after {event.attempts + 1} tries: {reason}")
        return "failed"
    leasing.retry(WebhookEvent, [event.pk], token=token, error=reason)
    return "retry"


def event_process(event: WebhookEvent, token: str) -> str:
    """Run one claimed event's handler and record the outcome (see module docstring); returns
    what happened: processed, ignored, retry, failed or lost."""
    handler = TOPICS.get(event.topic)
    if handler is None or event.payload is None:
        reason = "topic no longer handled" if handler is None else "no payload to process"
        leasing.complete(WebhookEvent, [event.pk], token=token, state=WebhookEvent.State.IGNORED,
                         last_error=reason, processed_at=timezone.now())
        return "ignored"
    ctx = WebhookContext(shop=event.shop, shop_domain=event.shop_domain, topic=event.topic,
                         payload=event.payload, event=event)
    committed: list[bool] = []
    try:
        with transaction.atomic():
            # Registered first, so it runs before the handler's own on-commit callbacks: an
            # error raised by one of those comes after the event was recorded as processed.
            transaction.on_commit(lambda: committed.append(True))
            _finish(event, token, handler(ctx))
    except Exception as error:
        if committed:
            logger.warning("webhook event %s (%s): an on-commit action failed after it was "
                           "processed: %s", event.pk, event.topic, type(error).__name__)
            return "processed"
        return _outcome_of(event, token, error)
    return "processed"


def _outcome_of(event: WebhookEvent, token: str, error: Exception) -> str:
    """Record what the handler's exception means (see module docstring)."""
    if isinstance(error, _Lost):
        return "lost"
    if isinstance(error, (OperationalError, InterfaceError)):
        raise error  # the database went away: nothing can be recorded now; the lease expires
    if isinstance(error, EventIgnored):
        leasing.complete(WebhookEvent, [event.pk], token=token, state=WebhookEvent.State.IGNORED,
                         last_error=error.reason[:2000], processed_at=timezone.now())
        return "ignored"
    if isinstance(error, RETRYABLE) or (isinstance(error, ShopifyError) and error.retryable):
        return _retry_or_give_up(event, token, error)
    logger.warning("webhook event %s (%s, shop %s) failed: %s", event.pk, event.topic,
                   event.shop_domain, type(error).__name__,
                   exc_info=error if event.topic not in PERSONAL_TOPICS else None)
    leasing.fail(WebhookEvent, [event.pk], token=token, error=_reason(error),
                 processed_at=timezone.now())
    return "failed"


def _round(shop_domain: str, counts: Counter[str]) -> bool:
    """Claim and process one batch; True when a full batch was claimed (more may be due)."""
    token, limit, seconds = leasing.new_token(), conf.claim_size(), conf.lease_seconds()
    ids = leasing.claim(WebhookEvent.objects.filter(shop_domain=shop_domain), limit=limit,
                        lease_seconds=seconds, token=token, order_by=("id",))
    lease = Lease(model=WebhookEvent, token=token, seconds=seconds)
    lease.add(ids)
    events = list(WebhookEvent.objects.filter(id__in=ids).select_related("shop").order_by("id"))
    for run in _runs(events):
        if not _still_held(lease, counts):
            return False
        left = batching.run_process(run, token, counts) if batching.batchable(run[0]) else run
        lease.discard([event.pk for event in run if event not in left])
        for event in left:
            if not _still_held(lease, counts):
                return False
            counts[event_process(event, token)] += 1
            lease.discard([event.pk])
    return len(ids) == limit


def _still_held(lease: Lease, counts: Counter[str]) -> bool:
    """Renew the claim's lease when due; False (its events counted lost) once it is gone."""
    try:
        lease.keep_alive()
    except LeaseLost:
        counts["lost"] += len(lease.ids)
        return False
    return True


def _runs(events: list[WebhookEvent]) -> list[list[WebhookEvent]]:
    """The claim in order, consecutive batchable level events grouped (batching.py), every
    other event a run of its own."""
    runs: list[list[WebhookEvent]] = []
    for event in events:
        if runs and batching.batchable(event) and batching.batchable(runs[-1][-1]):
            runs[-1].append(event)
        else:
            runs.append([event])
    return runs


def follow_up(shop_domain: str) -> str:
    """Make sure someone comes back for what is left; returns what was done (tests/logs)."""
    now = timezone.now()
    pending = WebhookEvent.objects.filter(shop_domain=shop_domain, state=PENDING)
    if leasing.due(pending, now=now).exists():
        lanes.nudge_shop(shop_domain=shop_domain)
        return "nudged"
    upcoming = pending.filter(leased_until__isnull=True).aggregate(t=Min("available_at"))["t"]
    if upcoming is None:
        return "idle"
    seconds = max(0.0, (upcoming - now).total_seconds())
    lanes.later_shop(shop_domain=shop_domain, seconds=seconds)
    return f"later {seconds:.2f}s"


def process_shop(shop_domain: str) -> dict[str, Any]:
    """Drain one shop's due events (see module docstring); returns counts by outcome."""
    logcontext.bind_shop(shop_domain)
    lanes.job_started(shop_domain=shop_domain)
    counts: Counter[str] = Counter()
    deadline = time.monotonic() + BUDGET_SECONDS
    while _round(shop_domain, counts) and time.monotonic() < deadline:
        pass
    summary: dict[str, Any] = dict(counts)
    summary["follow_up"] = follow_up(shop_domain)
    return summary
