"""PROFILE_SYNC rows: profile, list membership, consent (only with consent) and the event.

One call per step per chunk, in this order:
1. profile, one by one (`identity.upsert_profile`) when the job holds only a few rows (a lone
   signup: instant, and we learn the profile id) or a row needs care (known id, conflict);
2. list membership for those (`add_profiles_to_list`, ≤1,000 ids);
3. consent: `bulk_subscribe` for rows whose shopper consented — and only those;
4. the "Subscribed to Back in Stock" event (`create_event` / `bulk_create_events`);
5. profile + list for everyone else through bulk import jobs (`bulk_import.submit`), last, so a
   row whose event is still waiting for the rate limiter is not imported twice.

Outcomes per stage: `Blocked` (rate limit or 429 cool-down) stops that stage only — the other
stages use other rate-limit buckets and may still go; `Halted` (merchant must act) stops
everything and hands the rows back untouched; an outage (5xx, timeout, connection, edge block)
stops everything and backs the rows off with jitter, counting an attempt; an error waiting cannot
fix is retried until `policy.MAX_ATTEMPTS`, then the row fails. Bad records fail alone inside
the stages. Whatever went through is kept on the row (`steps_done`), so a retry never
repeats a finished step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from redis.exceptions import RedisError

from integrations.klaviyo.errors import KlaviyoError
from notifyme.delivery import policy
from notifyme.delivery.calls import Blocked, Delivery, Halted
from notifyme.delivery.outcome import Outcome
from notifyme.subscriptions.models import Subscription
from notifyme.sync import bulk_import, identity, profile_fields, stages
from notifyme.sync.models import OutboxItem, Step
from notifyme.sync.rows import Row, save_outcomes

logger = logging.getLogger(__name__)

#: At most this many rows needing a profile take the one-by-one path; more use bulk import.
SINGLE_MAX = 10
ENDED = (Subscription.Status.UNSUBSCRIBED, Subscription.Status.REDACTED)


def needed_steps(sub: Subscription) -> int:
    steps = Step.BASE
    if profile_fields.consent_entries(sub, historical=False):
        steps |= Step.CONSENT
    return steps


def to_row(item: OutboxItem) -> Row:
    sub = item.subscription
    row = Row(item=item, done=item.steps_done, needed=item.steps_needed or needed_steps(sub),
              phone_issue=item.phone_issue, profile_id=sub.klaviyo_profile_id,
              import_batch_id=item.import_batch_id)
    if sub.status in ENDED:
        row.superseded, row.needed = True, 0  # never (re)subscribe someone who left
    return row


def _stages(ctx: Delivery, rows: list[Row]) -> list[Callable[[], object]]:
    profile_todo = [r for r in rows if r.needs(Step.PROFILE) and not r.done & Step.IMPORTED]
    one_by_one = [r for r in profile_todo
                  if len(profile_todo) <= SINGLE_MAX or r.sub.klaviyo_profile_id]

    def singles() -> None:
        for row in one_by_one:
            if not row.error:
                identity.upsert_profile(ctx, row)

    return [
        singles,
        lambda: identity.add_to_list(ctx, rows),
        lambda: stages.record_consent(ctx, rows),
        lambda: stages.send_events(ctx, rows),
        lambda: bulk_import.submit(ctx, [r for r in rows if r not in one_by_one]),
    ]


def process(ctx: Delivery, items: list[OutboxItem], *, token: str) -> Outcome:
    """Run every stage for the claimed rows and save what happened (see module docstring)."""
    rows = [to_row(item) for item in items]
    outcome = Outcome(claimed=len(rows))
    live = [r for r in rows if not r.superseded]
    for stage in _stages(ctx, live) if live else []:
        try:
            stage()
        except Blocked as blocked:
            outcome.wait = max(outcome.wait, blocked.wait)
        except Halted:
            outcome.halted = True
            break
        except RedisError as error:  # the shared limiter is unreachable: wait like an outage
            outcome.retry_error = f"rate limiter unavailable: {error}"[:500]
            break
        except KlaviyoError as error:
            if error.retryable:
                outcome.retry_error = str(error)[:500]
                break
            logger.warning("unexpected Klaviyo error for shop %s: %s", ctx.connection.shop_id,
                           error)
            outcome.retry_error = str(error)[:500]
            for row in live:
                if not row.complete and policy.gives_up(row.item.attempts):
                    row.fail(error.detail or str(error))
            break
    if outcome.halted:
        outcome.wait, outcome.retry_error = 0.0, ""
    outcome.counts = save_outcomes(rows, token=token, delay=outcome.wait,
                                   retry_error=outcome.retry_error)
    return outcome
