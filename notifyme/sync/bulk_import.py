"""Profiles in volume: Klaviyo bulk import jobs (≤10,000 profiles, ≤5 MB, list relationship).

Submit: rows whose other steps are done go out in one `POST /api/profile-bulk-import-jobs` per
≤10,000 profiles / ≤4.9 MB, with the merchant's list as relationship (membership, never consent).
An `ImportBatch` remembers the job id and the row order; the rows park as WAITING (unleased, so
nothing else touches them) and a delayed nudge comes back to poll. No worker sleeps on a job.

Poll: `GET .../{job_id}` until `complete` (backing off 1, 2, 4 ... 30 s), then page through
`/import-errors` and map each error's pointer (`/data/attributes/profiles/data/<i>`) to its row:
a duplicate_profile or a rejected phone next to an email is resent without the phone; any other
error fails that subscriber alone with Klaviyo's detail. Everyone else is synced. A job Klaviyo
cancelled or no longer knows is simply resent (imports are upserts).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.errors import KlaviyoNotFoundError
from notifyme.subscriptions.models import Subscription
from notifyme.sync import conf, leasing, nudges, payloads
from notifyme.sync.calls import SyncContext, bound, is_list_error
from notifyme.sync.models import ImportBatch, OutboxItem, Step
from notifyme.sync.rows import Row
from notifyme.sync.sql import in_ids
from notifyme.sync.stages import send_pointed

MAX_PROFILES = 10_000
MAX_BYTES = 4_900_000
BASE = "/data/attributes/profiles/data"
_INDEX = re.compile(r"^/data/attributes/profiles/data/(\d+)")
Issue = OutboxItem.PhoneIssue


def first_poll_seconds() -> float:
    return conf.value("SYNC_IMPORT_FIRST_POLL_SECONDS")


def _entry(row: Row) -> dict[str, Any]:
    """The row's import entry, built once per row and phone decision (sizing reuses it)."""
    key = bool(row.phone_issue)
    cached = getattr(row, "_import_entry", None)
    if cached is None or cached[0] != key:
        cached = (key, payloads.profile_attributes(row.sub, drop_phone=key))
        row._import_entry = cached  # type: ignore[attr-defined]
    return cached[1]


def _chunks(rows: list[Row]) -> list[list[Row]]:
    """≤10,000 rows per job and a body under MAX_BYTES, measured by serialising the whole
    candidate chunk once (not each row) and shrinking it proportionally when too big."""
    chunks: list[list[Row]] = []
    start = 0
    while start < len(rows):
        take = min(MAX_PROFILES, len(rows) - start)
        while True:
            candidate = rows[start:start + take]
            size = len(json.dumps([_entry(r) for r in candidate], separators=(",", ":")))
            size += 60 * len(candidate)  # the {"type": "profile", "attributes": ...} wrapper
            if size <= MAX_BYTES or take == 1:
                break
            take = max(1, int(take * MAX_BYTES / size * 0.98))
        chunks.append(candidate)
        start += take
    return chunks


def submit(ctx: SyncContext, rows: list[Row]) -> int:
    """PROFILE+LIST for many rows via import jobs; returns how many rows were submitted."""
    todo = [r for r in rows if r.needs(Step.PROFILE) and not r.done & Step.IMPORTED
            and not r.error and r.done | Step.PROFILE | Step.LIST == r.needed | r.done]
    submitted = 0
    for chunk in _chunks(todo):
        sent: dict[str, Any] = {}

        def build(live: list[Row], sent: dict[str, Any] = sent) -> list[tuple[Row, Any]]:
            entries = [(row, _entry(row)) for row in live]
            sent["rows"] = [row for row, _ in entries]
            return entries

        def send(client: KlaviyoClient, profiles: list[Any], sent: dict[str, Any] = sent) -> None:
            sent["job"] = client.bulk_import_profiles(profiles, list_id=ctx.list_id)

        try:
            send_pointed(ctx, "bulk_import_profiles", chunk, build=build, send=send, base=BASE)
        except KlaviyoNotFoundError as error:
            if is_list_error(error):
                ctx.halt(error)
            raise
        if "job" not in sent:
            continue
        accepted: list[Row] = sent["rows"]
        batch = ImportBatch.objects.create(
            shop_id=ctx.connection.shop_id, klaviyo_job_id=sent["job"],
            item_ids=[row.item.pk for row in accepted], total_count=len(accepted),
            available_at=timezone.now() + timedelta(seconds=first_poll_seconds()))
        for row in accepted:
            row.done |= Step.IMPORTED
            row.import_batch_id = batch.pk
        nudges.later_shop(shop_id=ctx.connection.shop_id, lane="bulk",
                          seconds=first_poll_seconds())
        submitted += len(accepted)
    return submitted


def _error_pages(ctx: SyncContext, job_id: str) -> list[dict[str, Any]]:
    """Every import error of a job (following `links.next`, 100 per page)."""
    found: list[dict[str, Any]] = []
    path = f"/api/profile-bulk-import-jobs/{job_id}/import-errors"
    params: dict[str, str] | None = {"page[size]": "100"}
    for _ in range(MAX_PROFILES // 100 + 1):
        response = ctx.call("get_bulk_import_errors", bound(
            KlaviyoClient.request, "GET", path, operation="get_bulk_import_errors",
            params=params))
        found.extend(response.data or [])
        following = (response.body or {}).get("links", {}).get("next")
        if not following:
            break
        parsed = urlsplit(following)
        path, params = parsed.path, dict(parse_qsl(parsed.query))
    return found


def _index_of(error: dict[str, Any], by_email: dict[str, int]) -> int | None:
    attrs = error.get("attributes") or {}
    match = _INDEX.match(str((attrs.get("source") or {}).get("pointer") or ""))
    if match:
        return int(match.group(1))
    original = ((attrs.get("original_payload") or {}).get("attributes") or {})
    email = str(original.get("email") or "").lower()
    return by_email.get(email) if email else None


def _resend(ids: list[int], **fields: Any) -> None:
    OutboxItem.objects.filter(in_ids(ids), state=OutboxItem.State.WAITING).update(
        state=OutboxItem.State.PENDING, steps_done=F("steps_done").bitand(~Step.IMPORTED & 0xFF),
        import_batch=None, available_at=timezone.now(), **fields)


@dataclass(frozen=True)
class _Item:
    pk: int
    subscription_id: int
    phone_issue: str
    email: str


def finish(ctx: SyncContext, batch: ImportBatch, job: dict[str, Any], token: str) -> None:
    """Apply a complete job's outcome to its rows (see module docstring)."""
    attrs = job.get("attributes") or {}
    errors = _error_pages(ctx, batch.klaviyo_job_id) if attrs.get("failed_count") else []
    rows = OutboxItem.objects.filter(in_ids(batch.item_ids)).values_list(
        "id", "subscription_id", "phone_issue", "subscription__email")
    items = {pk: _Item(pk, sub_id, issue, email) for pk, sub_id, issue, email in rows}
    by_email = {items[i].email.lower(): n for n, i in enumerate(batch.item_ids)
                if i in items and items[i].email}
    failed: dict[int, str] = {}
    resend: dict[int, str] = {}
    for error in errors:
        index = _index_of(error, by_email)
        if index is None or index >= len(batch.item_ids):
            continue
        item = items.get(batch.item_ids[index])
        if item is None:
            continue
        body = error.get("attributes") or {}
        pointer = str((body.get("source") or {}).get("pointer") or "")
        if body.get("code") == "duplicate_profile" and item.email:
            resend[item.pk] = Issue.CONFLICT
        elif (pointer.endswith("/phone_number") and item.email
              and item.phone_issue != Issue.INVALID):
            resend[item.pk] = Issue.INVALID
        else:
            failed[item.pk] = str(body.get("detail") or body.get("title") or "Import failed.")
    ok = [pk for pk in batch.item_ids if pk in items and pk not in failed and pk not in resend]
    now = timezone.now()
    with transaction.atomic():
        for pk, issue in resend.items():
            _resend([pk], phone_issue=issue)
        for pk, detail in failed.items():
            OutboxItem.objects.filter(id=pk, state=OutboxItem.State.WAITING).update(
                state=OutboxItem.State.FAILED, last_error=detail[:2000], completed_at=now,
                import_batch=None)
            Subscription.objects.filter(pk=items[pk].subscription_id).update(
                sync_state=Subscription.SyncState.FAILED, sync_error=detail[:2000])
        waiting = OutboxItem.objects.filter(in_ids(ok), state=OutboxItem.State.WAITING)
        waiting.update(state=OutboxItem.State.DONE, completed_at=now, import_batch=None,
                       steps_done=F("steps_done").bitor(Step.PROFILE | Step.LIST))
        for issue in ("", Issue.INVALID, Issue.CONFLICT):
            sub_ids = [items[pk].subscription_id for pk in ok if items[pk].phone_issue == issue]
            if sub_ids:
                Subscription.objects.filter(in_ids(sub_ids)).update(
                    sync_state=Subscription.SyncState.SYNCED, synced_at=now,
                    sync_error=payloads.PHONE_NOTES.get(issue, ""))
        leasing.complete(ImportBatch, [batch.pk], token=token, completed_count=len(ok),
                         failed_count=len(failed), polls=F("polls") + 1)


def poll_one(ctx: SyncContext, batch: ImportBatch, token: str) -> None:
    """One poll of one job; reschedules itself while Klaviyo is still working."""
    try:
        job = ctx.call("get_bulk_import_job",
                       lambda c: c.get_bulk_import_job(batch.klaviyo_job_id))
    except KlaviyoNotFoundError:
        job = {"attributes": {"status": "cancelled"}}
    status = str((job.get("attributes") or {}).get("status") or "")
    if status == "complete":
        finish(ctx, batch, job, token)
        return
    if status == "cancelled":
        with transaction.atomic():
            _resend(list(batch.item_ids))
            leasing.fail(ImportBatch, [batch.pk], token=token,
                         error="Klaviyo cancelled or no longer knows this import job; resent.")
        nudges.later_shop(shop_id=batch.shop_id, lane="bulk", seconds=0)
        return
    delay = min(30.0, first_poll_seconds() * (2 ** batch.polls))
    leasing.release(ImportBatch, [batch.pk], token=token, delay=delay, polls=F("polls") + 1)
    nudges.later_shop(shop_id=batch.shop_id, lane="bulk", seconds=delay)
