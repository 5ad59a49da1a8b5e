"""UNSUBSCRIBE and REDACT rows: withdraw marketing consent in Klaviyo.

- UNSUBSCRIBE: `bulk_unsubscribe` (≤100 profiles, identified by email/phone only — Klaviyo's
  rule) from email and SMS marketing, with the merchant's list as relationship so a profile that
  is on our list is unsubscribed from that list (Klaviyo unsubscribes profiles that are *not* on
  the list globally, which is what a shopper who asked to stop hearing from us wants anyway).
- REDACT: our copy of the contact is already erased, so when we know the Klaviyo profile id we
  read the profile's email/phone back from Klaviyo (`GET /api/profiles/{id}`) and unsubscribe it.
  Deleting the profile itself needs Klaviyo's Data Privacy API (`data-privacy:write`, a scope the
  app does not ask merchants for), so the row's note tells support to file the deletion request
  in Klaviyo. Without a profile id nothing of this shopper ever reached Klaviyo through us.
- Ordering: a withdrawal waits while an earlier PROFILE_SYNC of the same subscription is still
  unfinished (it would otherwise be able to subscribe the shopper *after* the withdrawal).
"""

from __future__ import annotations

from typing import Any

from redis.exceptions import RedisError

from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.errors import KlaviyoError, KlaviyoNotFoundError
from notifyme.sync import leasing, payloads
from notifyme.sync.calls import Blocked, Halted, SyncContext, bound, is_list_error
from notifyme.sync.models import OutboxItem
from notifyme.sync.profile_sync import Outcome
from notifyme.sync.rows import Row, save_outcomes

CHUNK = 100
ALL = 1  # one pseudo-step: "withdrawn"
REDACT_NOTE = ("Unsubscribed in Klaviyo. To delete the profile itself, file a deletion request "
               "in Klaviyo (Data Privacy API / privacy settings): the app has no data-privacy "
               "permission.")


def _blocked_by_earlier(items: list[OutboxItem]) -> set[int]:
    """Ids of rows whose subscription still has an unfinished, older PROFILE_SYNC."""
    earlier = OutboxItem.objects.filter(
        kind=OutboxItem.Kind.PROFILE_SYNC,
        subscription_id__in=[i.subscription_id for i in items],
        state__in=[OutboxItem.State.PENDING, OutboxItem.State.WAITING],
    ).values_list("subscription_id", "id")
    oldest: dict[int, int] = {}
    for sub_id, item_id in earlier:
        oldest[sub_id] = min(item_id, oldest.get(sub_id, item_id))
    return {i.pk for i in items if oldest.get(i.subscription_id, i.pk + 1) < i.pk}


def _contact(ctx: SyncContext, row: Row) -> tuple[str, str]:
    sub = row.sub
    if sub.email or sub.phone:
        return sub.email, payloads.phone_for(sub)
    if not sub.klaviyo_profile_id:
        row.note = "Nothing to withdraw: this subscriber never reached Klaviyo."
        return "", ""
    try:
        response = ctx.call("get_profile", lambda c: c.get_profile(sub.klaviyo_profile_id),
                            subscription_id=sub.pk)
    except KlaviyoNotFoundError:
        row.note = "The Klaviyo profile no longer exists; nothing to withdraw."
        return "", ""
    attrs: dict[str, Any] = (response.data or {}).get("attributes") or {}
    row.note = REDACT_NOTE
    return str(attrs.get("email") or ""), str(attrs.get("phone_number") or "")


def _withdraw(ctx: SyncContext, rows: list[Row]) -> None:
    todo: list[tuple[Row, list[dict[str, Any]]]] = []
    for row in rows:
        email, phone = _contact(ctx, row)
        entries = payloads.unsubscribe_entries(email=email, phone=phone)
        if entries:
            todo.append((row, entries))
        else:
            row.done = ALL
    chunk: list[tuple[Row, list[dict[str, Any]]]] = []
    for pair in [*todo, None]:
        size = sum(len(e) for _, e in chunk)
        if pair is not None and size + len(pair[1]) <= CHUNK:
            chunk.append(pair)
            continue
        if chunk:
            profiles = [entry for _, entries in chunk for entry in entries]
            try:
                ctx.call("bulk_unsubscribe", bound(KlaviyoClient.bulk_unsubscribe, profiles,
                                                   list_id=ctx.list_id),
                         retry_count=max(r.item.attempts for r, _ in chunk))
            except KlaviyoNotFoundError as error:
                if is_list_error(error):
                    ctx.halt(error)
                raise
            for row, _ in chunk:
                row.done = ALL
        chunk = [pair] if pair is not None else []


def process(ctx: SyncContext, items: list[OutboxItem], *, token: str) -> Outcome:
    """Withdraw consent for claimed UNSUBSCRIBE/REDACT rows; save the outcome."""
    waiting = _blocked_by_earlier(items)
    if waiting:
        leasing.release(OutboxItem, waiting, token=token, delay=1.0)
    rows = [Row(item=i, done=0, needed=ALL, profile_id=i.subscription.klaviyo_profile_id)
            for i in items if i.pk not in waiting]
    outcome = Outcome(claimed=len(rows), wait=1.0 if waiting else 0.0)
    try:
        _withdraw(ctx, rows)
    except Blocked as blocked:
        outcome.wait = max(outcome.wait, blocked.wait)
    except Halted:
        outcome.halted, outcome.wait = True, 0.0
    except RedisError as error:  # the shared limiter is unreachable: wait like an outage
        outcome.retry_error = f"rate limiter unavailable: {error}"[:500]
    except KlaviyoError as error:
        outcome.retry_error = str(error)[:500]
        if not error.retryable:
            for row in rows:
                if row.done != ALL and row.item.attempts + 1 >= 5:
                    row.fail(error.detail or str(error))
    outcome.counts = save_outcomes(rows, token=token, delay=outcome.wait,
                                   retry_error=outcome.retry_error)
    return outcome

