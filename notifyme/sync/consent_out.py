"""UNSUBSCRIBE and REDACT rows: a cancelled alert, an explicit marketing opt-out, an erasure.

- UNSUBSCRIBE (a cancelled alert) never touches marketing consent by itself: when the shopper
  has no active alert left at the shop (same email or phone), their profile leaves the
  merchant's list (`remove_profiles_from_list`, ≤1,000 profile ids; the id is the one we
  recorded, else looked up by email/phone) — otherwise nothing is sent. Only when the shopper
  also asked to stop marketing (`Subscription.marketing_withdrawn_at`) is their email and SMS
  marketing consent withdrawn first (`bulk_unsubscribe`, below).
- `bulk_unsubscribe` (≤100 profiles, identified by email/phone only — Klaviyo's rule) from email
  and SMS marketing, with the merchant's list as relationship so a profile that is on our list
  is unsubscribed from that list (Klaviyo unsubscribes profiles that are *not* on the list
  globally, which is what a shopper who asked to stop hearing from us wants anyway).
- REDACT: our copy of the contact is already erased, so when we know the Klaviyo profile id we
  read the profile's email/phone back from Klaviyo (`GET /api/profiles/{id}`) and unsubscribe it.
  Deleting the profile itself needs Klaviyo's Data Privacy API (`data-privacy:write`, a scope the
  app does not ask merchants for), so the row's note tells support to file the deletion request
  in Klaviyo. Without a profile id nothing of this shopper ever reached Klaviyo through us.
- Ordering: a withdrawal waits while an earlier PROFILE_SYNC of the same subscription is still
  unfinished (it would otherwise be able to subscribe the shopper *after* the withdrawal).
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q
from redis.exceptions import RedisError

from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.errors import KlaviyoBadRequestError, KlaviyoError, KlaviyoNotFoundError
from notifyme.delivery import leasing, policy
from notifyme.delivery.calls import Blocked, Delivery, Halted, bound, is_list_error
from notifyme.delivery.outcome import Outcome
from notifyme.subscriptions.models import Subscription
from notifyme.sync import profile_fields
from notifyme.sync.models import OutboxItem
from notifyme.sync.rows import Row, save_outcomes

CHUNK = 100
LIST_CHUNK = 1000
WITHDRAWN = 1  # pseudo-step: marketing consent withdrawn
LEFT_LIST = 2  # pseudo-step: off the merchant's list
MEMBER_POINTER = re.compile(r"/data/(\d+)/id")
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


def _contact(ctx: Delivery, row: Row) -> tuple[str, str]:
    sub = row.sub
    if sub.email or sub.phone:
        return sub.email, profile_fields.phone_for(sub)
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


def _withdraw(ctx: Delivery, rows: list[Row]) -> None:
    todo: list[tuple[Row, list[dict[str, Any]]]] = []
    for row in rows:
        if not row.needs(WITHDRAWN):
            continue
        email, phone = _contact(ctx, row)
        entries = profile_fields.unsubscribe_entries(email=email, phone=phone)
        if entries:
            todo.append((row, entries))
        else:
            row.done |= WITHDRAWN
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
                         subscription_ids=[r.sub.pk for r, _ in chunk],
                         retry_count=max(r.item.attempts for r, _ in chunk))
            except KlaviyoNotFoundError as error:
                if is_list_error(error):
                    ctx.halt(error)
                raise
            for row, _ in chunk:
                row.done |= WITHDRAWN
        chunk = [pair] if pair is not None else []


def _alert_left(rows: list[Row]) -> set[int]:
    """Ids of the rows whose shopper still has another active alert at the shop (one query)."""
    emails = {r.sub.email for r in rows if r.sub.email}
    phones = {r.sub.phone for r in rows if r.sub.phone}
    if not emails and not phones:
        return set()
    active = Subscription.objects.filter(
        Q(email__in=emails) | Q(phone__in=phones),
        shop_id__in={r.sub.shop_id for r in rows}, status=Subscription.Status.ACTIVE,
    ).values_list("id", "shop_id", "email", "phone")
    holders: dict[tuple[int, str], set[int]] = {}
    for pk, shop_id, email, phone in active:
        for contact in (email, phone):
            if contact:
                holders.setdefault((shop_id, contact), set()).add(pk)
    left = set()
    for row in rows:
        sub = row.sub
        for contact in (sub.email, sub.phone):
            if contact and holders.get((sub.shop_id, contact), set()) - {sub.pk}:
                left.add(row.item.pk)
    return left


def _profile_id(ctx: Delivery, row: Row) -> str:
    """The shopper's Klaviyo profile: the id we recorded, else found by email or phone."""
    sub = row.sub
    if sub.klaviyo_profile_id:
        return sub.klaviyo_profile_id
    email, phone = sub.email, profile_fields.phone_for(sub)
    if not email and not phone:
        return ""
    found = ctx.call("get_profiles", lambda c: c.find_profiles(email=email, phone=phone),
                     subscription_id=sub.pk)
    return str(found[0].get("id") or "") if found else ""


def _leave_list(ctx: Delivery, rows: list[Row]) -> None:
    todo: list[tuple[Row, str]] = []
    for row in rows:
        if not row.needs(LEFT_LIST):
            continue
        profile_id = _profile_id(ctx, row)
        if profile_id:
            todo.append((row, profile_id))
        else:
            row.done |= LEFT_LIST  # never reached Klaviyo: not on the list
    for start in range(0, len(todo), LIST_CHUNK):
        chunk = todo[start:start + LIST_CHUNK]
        _remove(ctx, chunk, list(dict.fromkeys(profile_id for _, profile_id in chunk)))
        for row, _ in chunk:
            row.done |= LEFT_LIST


def _remove(ctx: Delivery, chunk: list[tuple[Row, str]], ids: list[str]) -> None:
    """One removal call; profile ids Klaviyo no longer knows (a 400 pointing at them) are on
    no list, so the call is repeated once without them."""
    try:
        ctx.call("remove_profiles_from_list",
                 bound(KlaviyoClient.remove_profiles_from_list, ctx.list_id, ids),
                 subscription_ids=[r.sub.pk for r, _ in chunk],
                 retry_count=max(r.item.attempts for r, _ in chunk))
    except KlaviyoNotFoundError as error:
        if is_list_error(error):
            ctx.halt(error)
        raise
    except KlaviyoBadRequestError as error:
        gone = {ids[int(m.group(1))] for p in error.pointers
                if (m := MEMBER_POINTER.fullmatch(p)) and int(m.group(1)) < len(ids)}
        if not gone:
            raise
        for row, profile_id in chunk:
            if profile_id in gone:
                row.note = "The Klaviyo profile no longer exists; nothing to remove."
        rest = [i for i in ids if i not in gone]
        if rest:
            ctx.call("remove_profiles_from_list",
                     bound(KlaviyoClient.remove_profiles_from_list, ctx.list_id, rest),
                     subscription_ids=[r.sub.pk for r, profile_id in chunk if profile_id in rest],
                     retry_count=max(r.item.attempts for r, _ in chunk))


def _needed(item: OutboxItem, left: set[int]) -> int:
    if item.kind == OutboxItem.Kind.REDACT:
        return WITHDRAWN
    sub = item.subscription
    withdraw = WITHDRAWN if sub.marketing_withdrawn_at is not None else 0
    return withdraw | (0 if item.pk in left else LEFT_LIST)


def process(ctx: Delivery, items: list[OutboxItem], *, token: str) -> Outcome:
    """Carry out claimed UNSUBSCRIBE/REDACT rows (see module docstring); save the outcome."""
    waiting = _blocked_by_earlier(items)
    if waiting:
        leasing.release(OutboxItem, waiting, token=token, delay=1.0)
    rows = [Row(item=i, done=0, needed=0, profile_id=i.subscription.klaviyo_profile_id)
            for i in items if i.pk not in waiting]
    cancels = [r for r in rows if r.item.kind == OutboxItem.Kind.UNSUBSCRIBE]
    left = _alert_left(cancels) if cancels else set()
    for row in rows:
        row.needed = _needed(row.item, left)
        row.done = row.item.steps_done & row.needed  # a retry skips what already happened
    outcome = Outcome(claimed=len(rows), wait=1.0 if waiting else 0.0)
    try:
        _withdraw(ctx, rows)
        _leave_list(ctx, rows)
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
                if not row.complete and policy.gives_up(row.item.attempts):
                    row.fail(error.detail or str(error))
    outcome.counts = save_outcomes(rows, token=token, delay=outcome.wait,
                                   retry_error=outcome.retry_error)
    return outcome

