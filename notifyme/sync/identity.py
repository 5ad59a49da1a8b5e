"""The one-subscriber path: upsert the profile now, learn its id, handle identity conflicts.

Used when a job holds only a few rows (a lone signup reaches Klaviyo within seconds, and we get
the profile id back at once) and for rows that need care (a known profile id, an earlier
conflict). Decisions, each covered by a test:
- Known `klaviyo_profile_id` -> `PATCH /api/profiles/{id}`: the only way to change an identifier
  (a shopper who changed email); identify calls cannot. 404 (the profile was deleted or merged
  away) -> forget the id and upsert by identifiers. 409 (the new email/phone already belongs to
  another profile) -> upsert by identifiers, which lands on the profile that owns them.
- `POST /api/profile-import` 409 `duplicate_profile` (email -> profile A, phone -> profile B):
  we keep the email's profile and sync it **without the phone** rather than PATCHing profile B
  (`meta.duplicate_profile_id`): taking a phone number away from another profile could detach it
  from someone else, while email is what a back-in-stock alert is keyed on. The conflict is
  noted on the subscription and remembered on the row (`phone_issue="conflict"`), so SMS consent
  is still recorded for the phone on its own profile.
- `X-Klaviyo-Partial-Failure: phone_number` (Klaviyo dropped an invalid phone, kept the rest):
  the sync succeeds, the phone is not sent again, and a note says why.
"""

from __future__ import annotations

from integrations.klaviyo.client import KlaviyoClient, KlaviyoResponse
from integrations.klaviyo.errors import (
    KlaviyoBadRequestError,
    KlaviyoDuplicateProfileError,
    KlaviyoNotFoundError,
)
from notifyme.delivery.calls import Delivery, bound, is_list_error
from notifyme.sync import profile_fields
from notifyme.sync.models import OutboxItem, Step
from notifyme.sync.rows import Row

Issue = OutboxItem.PhoneIssue
LIST_CHUNK = 1000


def _mask(phone: str) -> str:
    return f"…{phone[-4:]}" if len(phone) > 4 else phone


def _note_partial(row: Row, response: KlaviyoResponse) -> None:
    if "phone_number" in response.partial_failure_fields:
        row.phone_issue = Issue.INVALID
        row.note = (f"Klaviyo did not accept the phone number {_mask(row.sub.phone)}; this "
                    "subscriber was synced without it.")


def _upsert(ctx: Delivery, row: Row) -> KlaviyoResponse:
    sub = row.sub
    attrs = profile_fields.profile_attributes(sub, drop_phone=bool(row.phone_issue))
    try:
        return ctx.call("profile_import", lambda c: c.upsert_profile(attrs),
                        subscription_id=sub.pk, retry_count=row.item.attempts)
    except KlaviyoDuplicateProfileError as error:
        if not sub.email or "phone_number" not in attrs:
            raise
        row.phone_issue = Issue.CONFLICT
        attrs = profile_fields.profile_attributes(sub, drop_phone=True)
        response = ctx.call("profile_import", lambda c: c.upsert_profile(attrs),
                            subscription_id=sub.pk, retry_count=row.item.attempts)
        other = error.duplicate_profile_id
        ours = str((response.data or {}).get("id") or "")
        named = f" ({other})" if other and other != ours else ""
        row.note = (f"The phone number {_mask(sub.phone)} already belongs to another Klaviyo "
                    f"profile{named}; this subscriber was synced by email only.")
        return response


def upsert_profile(ctx: Delivery, row: Row) -> None:
    """PROFILE step for one row (see module docstring). Bad data fails the row alone."""
    sub = row.sub
    if not profile_fields.event_identity(sub, drop_phone=row.phone_issue == Issue.INVALID):
        row.fail("This subscriber has no email or phone number Klaviyo can accept.")
        return
    known = sub.klaviyo_profile_id
    try:
        response: KlaviyoResponse | None = None
        if known:
            attrs = profile_fields.profile_attributes(sub, drop_phone=bool(row.phone_issue))
            try:
                response = ctx.call("update_profile", lambda c: c.update_profile(known, attrs),
                                    subscription_id=sub.pk, retry_count=row.item.attempts)
            except KlaviyoNotFoundError:
                response = None  # the stored id is gone: upsert by identifiers instead
            except KlaviyoDuplicateProfileError:
                response = None  # the new identifier belongs to another profile: upsert
        if response is None:
            response = _upsert(ctx, row)
    except (KlaviyoBadRequestError, KlaviyoDuplicateProfileError, KlaviyoNotFoundError) as error:
        row.fail(error.detail or str(error))
        return
    _note_partial(row, response)
    data = response.data or {}
    row.profile_id = str(data.get("id") or known or "")
    row.done |= Step.PROFILE


def add_to_list(ctx: Delivery, rows: list[Row]) -> None:
    """LIST step for rows whose profile id we know (≤1,000 ids per call).

    A 404 here is the merchant's list, gone: the connection is halted (Halted propagates).
    """
    for row in rows:
        if row.needs(Step.LIST) and row.done & Step.PROFILE and not row.profile_id:
            row.done &= ~Step.PROFILE  # id unknown (should not happen): upsert again next time
    ready = [r for r in rows if r.needs(Step.LIST) and r.done & Step.PROFILE and r.profile_id]
    for start in range(0, len(ready), LIST_CHUNK):
        chunk = ready[start:start + LIST_CHUNK]
        ids = list(dict.fromkeys(r.profile_id for r in chunk))
        try:
            ctx.call("add_profiles_to_list", bound(KlaviyoClient.add_profiles_to_list,
                                                   ctx.list_id, ids),
                     subscription_ids=[r.sub.pk for r in chunk],
                     retry_count=max(r.item.attempts for r in chunk))
        except KlaviyoNotFoundError as error:
            if is_list_error(error):
                ctx.halt(error)
            for row in chunk:  # a profile vanished since its upsert: upsert again next time
                row.done &= ~Step.PROFILE
                row.profile_id = ""
            continue
        for row in chunk:
            row.done |= Step.LIST
