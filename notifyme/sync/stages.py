"""Consent and event steps, and the subscriber sync's side of "records fail alone".

Klaviyo validates a bulk request all-or-nothing: one bad record rejects the call with
`errors[].source.pointer` such as `/data/attributes/profiles/data/3/attributes/email`. The
pipeline's `calls.send_pointed` maps each pointer back to the row that produced that entry and
resends the rest; `send_pointed` here decides for a pointed row: a pointer at a phone number of
a row that also has an email drops the phone instead (as Klaviyo itself does on
profile-import), any other pointer fails the row alone with Klaviyo's detail, visibly. A 400
that points at no record fails the whole chunk: the request, not a subscriber, is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from integrations.klaviyo.client import BulkEvent, KlaviyoClient
from integrations.klaviyo.errors import KlaviyoBadRequestError, KlaviyoNotFoundError
from notifyme.delivery import calls, pointers
from notifyme.delivery.calls import Delivery, is_list_error
from notifyme.sync import profile_fields
from notifyme.sync.models import OutboxItem, Step
from notifyme.sync.rows import Row

Entry = tuple[Row, Any]
CHUNK = 1000


def _on_pointed(named: list[tuple[Row, str, str]], error: KlaviyoBadRequestError) -> list[Row]:
    failed: list[Row] = []
    for row, pointer, detail in named:
        if (pointer.endswith("/phone_number") and row.sub.email
                and row.phone_issue != OutboxItem.PhoneIssue.INVALID):
            row.phone_issue = OutboxItem.PhoneIssue.INVALID
            row.note = ("Klaviyo did not accept the phone number; this subscriber was "
                        "synced without it.")
        else:
            row.fail(detail)
            failed.append(row)
    return failed


def _fail_all(rows: list[Row], error: KlaviyoBadRequestError) -> None:
    for row in rows:
        row.fail(error.detail or str(error))


def _carried(owners: list[Row]) -> list[int]:
    """The subscriptions a request carries (a row may own several entries)."""
    return list(dict.fromkeys(row.sub.pk for row in owners))


def _retry_count(owners: list[Row]) -> int:
    return max(row.item.attempts for row in owners)


def send_pointed(
    ctx: Delivery, operation: str, rows: list[Row], *,
    build: Callable[[list[Row]], list[Entry]],
    send: Callable[[KlaviyoClient, list[Any]], object],
    base: str,
) -> list[Row]:
    """Send one bulk request for `rows`; returns the rows whose entries were accepted."""
    def split(live: list[Row]) -> tuple[list[Row], list[Any]]:
        entries = build(live)
        return [row for row, _ in entries], [entry for _, entry in entries]

    owners = calls.send_pointed(ctx, operation, rows, build=split, send=send, base=base,
                                on_pointed=_on_pointed, on_unattributed=_fail_all,
                                subscription_ids=_carried, retry_count=_retry_count)
    return list(dict.fromkeys(owners))


# -- consent ------------------------------------------------------------------------------


def _subscribe(ctx: Delivery, historical: bool) -> Callable[[KlaviyoClient, list[Any]], object]:
    def send(client: KlaviyoClient, entries: list[Any]) -> object:
        client.bulk_subscribe(entries, list_id=ctx.list_id,
                              custom_source=profile_fields.CUSTOM_SOURCE, historical=historical)
        return None
    return send


def _consent_entries(row: Row, historical: bool) -> list[dict[str, Any]]:
    """The row's bulk-subscribe entries, built once per (historical, phone decision): chunking
    counts them and the request sends them."""
    return row.cached("consent_entries", (historical, row.phone_issue),
                      lambda: profile_fields.consent_entries(row.sub, historical=historical,
                                                       phone_issue=row.phone_issue))


def _chunks(rows: list[Row], historical: bool) -> list[list[Row]]:
    """Rows cut so no request carries more than 1,000 profile entries."""
    chunks: list[list[Row]] = [[]]
    size = 0
    for row in rows:
        count = len(_consent_entries(row, historical))
        if size + count > CHUNK:
            chunks.append([])
            size = 0
        chunks[-1].append(row)
        size += count
    return [chunk for chunk in chunks if chunk]


def record_consent(ctx: Delivery, rows: list[Row]) -> None:
    """CONSENT step: bulk subscribe (≤1,000 entries), only rows whose shopper consented."""
    todo = [r for r in rows if r.needs(Step.CONSENT) and not r.error]
    now, after = timezone.now(), profile_fields.historical_after()
    past = {id(r) for r in todo if profile_fields.is_historical(r.sub, now=now, after=after)}
    for historical in (False, True):
        group = [r for r in todo if (id(r) in past) == historical]

        def build(live: list[Row], historical: bool = historical) -> list[Entry]:
            return [(row, entry) for row in live for entry in _consent_entries(row, historical)]

        for chunk in _chunks(group, historical):
            try:
                accepted = set(send_pointed(ctx, "bulk_subscribe", chunk, build=build,
                                            send=_subscribe(ctx, historical),
                                            base=pointers.PROFILES))
            except KlaviyoNotFoundError as error:
                if is_list_error(error):
                    ctx.halt(error)
                raise
            for row in chunk:
                if row.error:
                    continue
                if row in accepted or not build([row]):
                    row.done |= Step.CONSENT  # accepted, or nothing left to consent to


# -- events -------------------------------------------------------------------------------


def _event_entries(live: list[Row]) -> list[Entry]:
    out: list[Entry] = []
    for row in live:
        event = profile_fields.subscribed_event(
            row.sub, drop_phone=row.phone_issue == OutboxItem.PhoneIssue.INVALID)
        if not event.profile:
            row.fail("This subscriber has no email or phone number Klaviyo can accept.")
            continue
        out.append((row, event))
    return out


def _send_single(client: KlaviyoClient, events: list[Any]) -> object:
    event: BulkEvent = events[0]
    client.create_event(metric=event.metric, profile=event.profile,
                        properties=event.all_properties,
                        unique_id=event.unique_id, time_iso=event.time_iso)
    return None


def _send_bulk(client: KlaviyoClient, events: list[Any]) -> object:
    client.bulk_create_events(events)
    return None


def send_events(ctx: Delivery, rows: list[Row]) -> None:
    """EVENT step: "Subscribed to Back in Stock" (create_event for one, bulk ≤1,000 otherwise)."""
    todo = [r for r in rows if r.needs(Step.EVENT) and not r.error]
    if len(todo) == 1:
        chunks = [("create_event", todo, _send_single, pointers.NONE)]
    else:
        chunks = [("bulk_create_events", todo[start:start + CHUNK], _send_bulk,
                   pointers.EVENTS)
                  for start in range(0, len(todo), CHUNK)]
    for operation, chunk, send, base in chunks:
        # Mark each chunk as soon as it is accepted: a rate-limit wait on the next chunk must
        # not make us resend this one.
        for row in send_pointed(ctx, operation, chunk, build=_event_entries, send=send,
                                base=base):
            row.done |= Step.EVENT
