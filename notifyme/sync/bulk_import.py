"""Profiles in volume: Klaviyo bulk import jobs (≤10,000 profiles, ≤5 MB, list relationship).

Submit: rows whose other steps are done go out in one `POST /api/profile-bulk-import-jobs` per
≤10,000 profiles / ≤4.9 MB, with the merchant's list as relationship (membership, never consent).
An `ImportBatch` remembers the job id and the row order. We poll once right away: a job Klaviyo
already finished completes its rows in the same job. Otherwise the rows park as WAITING
(unleased, so nothing else touches them) and a delayed nudge comes back to poll. No worker
sleeps on a job.

Poll: `GET .../{job_id}` until `complete` (backing off 1, 2, 4 ... 30 s), then page through
`/import-errors` and map each error's pointer (`/data/attributes/profiles/data/<i>`) to its row:
a duplicate_profile or a rejected phone next to an email is resent without the phone; any other
error fails that subscriber alone with Klaviyo's detail. Everyone else is synced. A job Klaviyo
cancelled or no longer knows is simply resent (imports are upserts).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.klaviyo.bodies import encoded_size
from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.errors import KlaviyoError, KlaviyoNotFoundError
from notifyme.delivery import conf, leasing, pointers
from notifyme.delivery.calls import Blocked, Delivery, bound, is_list_error
from notifyme.delivery.sql import in_ids
from notifyme.subscriptions.models import Subscription
from notifyme.sync import lanes, profile_fields
from notifyme.sync.models import ImportBatch, OutboxItem, Step
from notifyme.sync.rows import Row
from notifyme.sync.stages import send_pointed

MAX_PROFILES = 10_000
MAX_BYTES = 4_900_000
Issue = OutboxItem.PhoneIssue


def first_poll_seconds() -> float:
    return conf.value("SYNC_IMPORT_FIRST_POLL_SECONDS")


def _profile(row: Row) -> dict[str, Any]:
    """The row's import entry, built once per phone decision: it sizes the job and is sent."""
    drop_phone = bool(row.phone_issue)
    return row.cached("import_profile", drop_phone,
                      lambda: profile_fields.profile_attributes(row.sub, drop_phone=drop_phone))


def _size(row: Row) -> int:
    return row.cached("import_size", bool(row.phone_issue), lambda: encoded_size(_profile(row)))


def _chunks(rows: list[Row]) -> list[list[Row]]:
    """≤10,000 rows per job and a body under MAX_BYTES, measured on each row's encoded entry
    (plus a generous allowance for the {"type": "profile", "attributes": ...} wrapper)."""
    chunks: list[list[Row]] = []
    size = 0
    for row in rows:
        entry = _size(row) + 60
        if not chunks or len(chunks[-1]) >= MAX_PROFILES or size + entry > MAX_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(row)
        size += entry
    return chunks


def submit(ctx: Delivery, rows: list[Row]) -> int:
    """PROFILE+LIST for many rows via import jobs; returns how many rows were submitted."""
    todo = [r for r in rows if r.needs(Step.PROFILE) and not r.done & Step.IMPORTED
            and not r.error and r.done | Step.PROFILE | Step.LIST == r.needed | r.done]
    submitted = 0
    for chunk in _chunks(todo):
        sent: dict[str, Any] = {}

        def build(live: list[Row], sent: dict[str, Any] = sent) -> list[tuple[Row, Any]]:
            entries = [(row, _profile(row)) for row in live]
            sent["rows"] = [row for row, _ in entries]
            return entries

        def send(client: KlaviyoClient, profiles: list[Any], sent: dict[str, Any] = sent) -> None:
            sent["job"] = client.bulk_import_profiles(profiles, list_id=ctx.list_id)

        try:
            send_pointed(ctx, "bulk_import_profiles", chunk, build=build, send=send,
                         base=pointers.PROFILES)
        except KlaviyoNotFoundError as error:
            if is_list_error(error):
                ctx.halt(error)
            raise
        if "job" not in sent:
            continue
        accepted: list[Row] = sent["rows"]
        token = leasing.new_token()
        now = timezone.now()
        batch = ImportBatch.objects.create(
            shop_id=ctx.connection.shop_id, klaviyo_job_id=sent["job"],
            item_ids=[row.item.pk for row in accepted], total_count=len(accepted),
            available_at=now + timedelta(seconds=first_poll_seconds()), lease_token=token,
            leased_until=now + timedelta(seconds=conf.value("SYNC_LEASE_SECONDS")))
        for row in accepted:
            row.done |= Step.IMPORTED
            row.import_batch_id = batch.pk
        if not _finish_inline(ctx, batch, accepted, token):
            leasing.release(ImportBatch, [batch.pk], token=token, delay=first_poll_seconds())
            lanes.later_shop(shop_id=ctx.connection.shop_id, lane="bulk",
                              seconds=first_poll_seconds())
        submitted += len(accepted)
    return submitted


def _finish_inline(ctx: Delivery, batch: ImportBatch, accepted: list[Row], token: str
                   ) -> bool:
    """Poll once right away: a job Klaviyo already finished completes its rows in this job
    (no parking, no second pass over them). False = not done yet: poll later as usual."""
    try:
        job = ctx.call("get_bulk_import_job",
                       bound(KlaviyoClient.get_bulk_import_job, batch.klaviyo_job_id))
        attrs = job.get("attributes") or {}
        if attrs.get("status") != "complete":
            return False
        errors = _error_pages(ctx, batch.klaviyo_job_id) if attrs.get("failed_count") else []
    except (Blocked, KlaviyoError):
        return False
    failed, resend = classify([(r.sub.email, r.phone_issue) for r in accepted], errors)
    for index, row in enumerate(accepted):
        if index in failed:
            row.fail(failed[index])
        elif index in resend:
            row.phone_issue = resend[index]
            row.done &= ~Step.IMPORTED
            row.import_batch_id = None
        else:
            row.done |= Step.PROFILE | Step.LIST
    leasing.complete(ImportBatch, [batch.pk], token=token, polls=1, failed_count=len(failed),
                     completed_count=len(accepted) - len(failed) - len(resend))
    return True


def _error_pages(ctx: Delivery, job_id: str) -> list[dict[str, Any]]:
    """Every import error of a job (following `links.next`, 100 per page)."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(MAX_PROFILES // 100 + 1):
        response = ctx.call("get_bulk_import_errors", bound(
            KlaviyoClient.get_bulk_import_errors, job_id, cursor=cursor))
        found.extend(response.data or [])
        cursor = response.next_cursor
        if cursor is None:
            break
    return found


def classify(items: list[tuple[str, str]], errors: list[dict[str, Any]]
             ) -> tuple[dict[int, str], dict[int, str]]:
    """Import errors -> ({index: detail} to fail, {index: phone issue} to resend without the
    phone). `items` are (email, phone_issue) in the job's row order; an error is matched by its
    pointer (`/data/attributes/profiles/data/<i>`), else by the email of its original payload."""
    by_email = {email.lower(): n for n, (email, _) in enumerate(items) if email}
    failed: dict[int, str] = {}
    resend: dict[int, str] = {}
    for error in errors:
        body = error.get("attributes") or {}
        pointer = str((body.get("source") or {}).get("pointer") or "")
        original = ((body.get("original_payload") or {}).get("attributes") or {})
        index = pointers.index_of(pointer, pointers.PROFILES)
        if index is None:
            index = by_email.get(str(original.get("email") or "").lower())
        if index is None or index >= len(items):
            continue
        email, issue = items[index]
        if body.get("code") == "duplicate_profile" and email:
            resend[index] = Issue.CONFLICT
        elif pointer.endswith("/phone_number") and email and issue != Issue.INVALID:
            resend[index] = Issue.INVALID
        else:
            failed[index] = str(body.get("detail") or body.get("title") or "Import failed.")
    return failed, resend


def _resend(ids: list[int], **fields: Any) -> None:
    OutboxItem.objects.filter(in_ids(ids), state=OutboxItem.State.WAITING).update(
        state=OutboxItem.State.PENDING, steps_done=F("steps_done").bitand(~Step.IMPORTED & 0xFF),
        import_batch=None, available_at=timezone.now(), **fields)


def finish(ctx: Delivery, batch: ImportBatch, job: dict[str, Any], token: str) -> None:
    """Apply a complete job's outcome to its parked (WAITING) rows; see module docstring."""
    attrs = job.get("attributes") or {}
    errors = _error_pages(ctx, batch.klaviyo_job_id) if attrs.get("failed_count") else []
    found = OutboxItem.objects.filter(in_ids(batch.item_ids)).values_list(
        "id", "subscription_id", "phone_issue", "subscription__email")
    items = {pk: (sub_id, issue, email) for pk, sub_id, issue, email in found}
    order = [pk for pk in batch.item_ids if pk in items]
    failed, resend = classify([(items[pk][2], items[pk][1]) for pk in order], errors)
    ok = [pk for n, pk in enumerate(order) if n not in failed and n not in resend]
    now = timezone.now()
    with transaction.atomic():
        for n, issue in resend.items():
            _resend([order[n]], phone_issue=issue)
        for n, detail in failed.items():
            OutboxItem.objects.filter(id=order[n], state=OutboxItem.State.WAITING).update(
                state=OutboxItem.State.FAILED, last_error=detail[:2000], completed_at=now,
                import_batch=None)
            Subscription.objects.filter(pk=items[order[n]][0]).update(
                sync_state=Subscription.SyncState.FAILED, sync_error=detail[:2000])
        waiting = OutboxItem.objects.filter(in_ids(ok), state=OutboxItem.State.WAITING)
        waiting.update(state=OutboxItem.State.DONE, completed_at=now,  # keeps its batch link
                       steps_done=F("steps_done").bitor(Step.PROFILE | Step.LIST))
        for issue in ("", Issue.INVALID, Issue.CONFLICT):
            sub_ids = [items[pk][0] for pk in ok if items[pk][1] == issue]
            if sub_ids:
                Subscription.objects.filter(in_ids(sub_ids)).update(
                    sync_state=Subscription.SyncState.SYNCED, synced_at=now,
                    sync_error=profile_fields.PHONE_NOTES.get(issue, ""))
        leasing.complete(ImportBatch, [batch.pk], token=token, completed_count=len(ok),
                         failed_count=len(failed), polls=F("polls") + 1)


def poll_one(ctx: Delivery, batch: ImportBatch, token: str) -> None:
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
        lanes.later_shop(shop_id=batch.shop_id, lane="bulk", seconds=0)
        return
    delay = min(30.0, first_poll_seconds() * (2 ** batch.polls))
    leasing.release(ImportBatch, [batch.pk], token=token, delay=delay, polls=F("polls") + 1)
    lanes.later_shop(shop_id=batch.shop_id, lane="bulk", seconds=delay)
