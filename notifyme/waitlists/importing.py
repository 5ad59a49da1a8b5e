"""Import a waitlist CSV from another app: start it, run it (inline or as a job), sweep it.

`waitlist_import_start` checks the file as a whole (size, encoding, header, row count: each a
`FileInvalid` / `TooLarge` naming the sentence) before anything is written, then records a
`WaitlistImport`. Up to `INLINE_ROWS` rows are imported inside the request; a larger file is
imported by a job on the `bulk` queue (ids only), which reports progress on the row every
`CHUNK` rows; the sweeper re-enqueues an import whose job vanished and it resumes at `next_row`.

Each row is read by `rows.row_read` and written by `subscription_create` with
`source="import"`: the storefront's own validation and write, its outbox row and nudge, so an
imported shopper syncs to Klaviyo like any signup. Re-importing is idempotent and respectful:
a row whose shopper already has an alert for that variant — waiting, notified or cancelled —
counts as "already there" and writes nothing (a re-import never re-subscribes someone who
unsubscribed), and a shopper who withdrew marketing consent at the shop is not imported.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from notifyme.delivery import nudges
from notifyme.shops.models import Shop
from notifyme.subscriptions.forms import SubscribeInput
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_create
from notifyme.waitlists import csvfile
from notifyme.waitlists.models import WaitlistImport
from notifyme.waitlists.rows import VariantFinder, row_read

logger = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
INLINE_ROWS = 2_000
CHUNK = 250
QUEUE = "bulk"
JOB = "notifyme.waitlists.jobs.run_waitlist_import"
JOB_OPTIONS: dict[str, Any] = {"result_ttl": 0, "failure_ttl": 86400, "job_timeout": 3600}
STALE_SECONDS = 120
REPORT_HEADER = "row,field,message\r\n"
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class _Overtaken(Exception):
    """Another run of the same import committed this chunk's place first."""


class TooLarge(ValueError):
    """The upload is over `MAX_BYTES` or `MAX_ROWS`; `str(error)` says which and the cap."""


def too_large_sentence() -> str:
    return (f"The file is too large: import at most {MAX_ROWS:,} rows "
            f"({MAX_BYTES // (1024 * 1024)} MB) at a time; split it into several files.")


def waitlist_import_start(*, shop: Shop, raw: bytes, filename: str = "",
                          enqueue: bool = True) -> WaitlistImport:
    """Check the upload and record its import; run it now when small, else enqueue its job.

    Raises `TooLarge` or `csvfile.FileInvalid` (nothing written). Returns the import row: done
    when it ran inline, queued otherwise (`enqueue=False` leaves it for the sweeper or a test).
    """
    if len(raw) > MAX_BYTES:
        raise TooLarge(too_large_sentence())
    text = csvfile.decode(raw)
    records = csvfile.rows(text)
    header_cells = next(records, None)
    if header_cells is None:
        raise csvfile.FileInvalid("The file is empty: it needs a header row and one row per "
                                  "shopper.")
    csvfile.header_read(header_cells)
    total = sum(1 for _ in records)
    if total == 0:
        raise csvfile.FileInvalid("The file has a header but no rows.")
    if total > MAX_ROWS:
        raise TooLarge(too_large_sentence())
    shown_name = CONTROL.sub("", filename).strip()[:255]  # NUL etc. would fail the INSERT
    batch = WaitlistImport.objects.create(shop=shop, filename=shown_name, source_csv=text,
                                          total_rows=total)
    logger.info("waitlist import %s: %s rows (shop %s)", batch.pk, total, shop.pk)
    if total <= INLINE_ROWS:
        waitlist_import_run(import_id=batch.pk)
        batch.refresh_from_db()
    elif enqueue:
        transaction.on_commit(lambda: import_nudge(import_id=batch.pk))
    return batch


def import_nudge(*, import_id: int) -> bool:
    """Enqueue the job for `import_id` (best effort: the sweeper retries a lost nudge)."""
    try:
        nudges.queue(QUEUE).enqueue(JOB, import_id, **JOB_OPTIONS)
    except Exception:
        logger.warning("could not enqueue waitlist import %s; the sweeper will", import_id)
        return False
    return True


def _claim(import_id: int, now: datetime) -> bool:
    """Take the import unless another runner holds it (a fresh heartbeat)."""
    stale = now - timedelta(seconds=STALE_SECONDS)
    return bool(WaitlistImport.objects.filter(pk=import_id).filter(
        Q(state=WaitlistImport.State.QUEUED)
        | Q(state=WaitlistImport.State.RUNNING, heartbeat_at__lt=stale)
    ).update(state=WaitlistImport.State.RUNNING, heartbeat_at=now,
             started_at=Coalesce(F("started_at"), Value(now))))


def waitlist_import_run(*, import_id: int) -> str:
    """Import the rows from `next_row` on, `CHUNK` at a time; return what happened.

    Each chunk's subscriptions, counts, error lines and `next_row` commit in one transaction
    (one commit per chunk, not per row), so a crash loses or repeats nothing: a resumed run
    starts at the first row of the chunk that did not commit.
    """
    now = timezone.now()
    if not _claim(import_id, now):
        return "not claimed"
    batch = WaitlistImport.objects.select_related("shop").get(pk=import_id)
    finder = VariantFinder(batch.shop)
    records = csvfile.rows(batch.source_csv)
    header = csvfile.header_read(next(records))
    for _ in range(batch.next_row):
        next(records, None)
    position = batch.next_row
    while True:
        chunk = [cells for _, cells in zip(range(CHUNK), records, strict=False)]
        if not chunk:
            break
        try:
            with transaction.atomic():  # the chunk's rows and its progress commit together
                _import_chunk(batch, chunk, position, header, finder, now)
        except _Overtaken:
            logger.warning("waitlist import %s: another run took over at row %s", import_id,
                           position)
            return "overtaken"
        position += len(chunk)
    WaitlistImport.objects.filter(pk=import_id).update(
        state=WaitlistImport.State.DONE, source_csv="", finished_at=timezone.now())
    return "done"


def _import_chunk(batch: WaitlistImport, chunk: list[list[str]], position: int,
                  header: csvfile.Header, finder: VariantFinder, now: datetime) -> None:
    counts = {"created": 0, "existing": 0, "failed": 0}
    report: list[str] = []
    writer = csvfile.LineWriter()
    for offset, cells in enumerate(chunk):
        row_number = position + offset + 2  # the header is row 1
        try:
            with transaction.atomic():  # a savepoint: one row's failure leaves the others
                outcome, errors = _import_one(batch.shop, cells, header, finder, now)
        except Exception:  # one bad row never stalls the import (the log has the trace)
            logger.exception("waitlist import %s: row %s failed", batch.pk, row_number)
            outcome, errors = "failed", [("row", "Could not be imported; try again.")]
        counts[outcome] += 1
        report.extend(writer.line([row_number, name, message]) for name, message in errors)
    # Fenced on `next_row`: a run declared stale whose successor moved on rolls its chunk back.
    moved = WaitlistImport.objects.filter(pk=batch.pk, next_row=position).update(
        next_row=position + len(chunk), heartbeat_at=timezone.now(),
        created_count=F("created_count") + counts["created"],
        existing_count=F("existing_count") + counts["existing"],
        failed_count=F("failed_count") + counts["failed"],
        error_report=Concat(F("error_report"), Value("".join(report))),
    )
    if not moved:
        raise _Overtaken


def _import_one(shop: Shop, cells: list[str], header: csvfile.Header, finder: VariantFinder,
                now: datetime) -> tuple[str, list[tuple[str, str]]]:
    result = row_read(cells, header=header, finder=finder, now=now)
    if result.signup is None or result.variant is None:
        return "failed", result.errors
    signup = result.signup
    known = _known(shop, result.variant.pk, signup)
    if known is not None and known.variant_id == result.variant.pk:
        return "existing", []
    if known is not None and known.marketing_withdrawn_at is not None:
        return "failed", [("email" if signup.email else "phone",
                           "This shopper unsubscribed from your marketing on "
                           f"{known.marketing_withdrawn_at:%Y-%m-%d}; not imported.")]
    subscription_create(
        shop=shop, variant=result.variant, email=signup.email,
        email_display=signup.email_display, phone=signup.phone, first_name=signup.first_name,
        marketing_consent=signup.marketing_consent,
        consent_text_version=signup.consent_text_version, sms_consent=signup.sms_consent,
        sms_consent_text_version=signup.sms_consent_text_version, locale=signup.locale,
        quantity_wanted=signup.quantity, source=Subscription.Source.IMPORT,
        signed_up_at=result.signed_up_at,
    )
    return "created", []


def _known(shop: Shop, variant_pk: int, signup: SubscribeInput) -> Subscription | None:
    """This shopper's alert for the variant (any state), else any subscription of theirs at
    the shop with marketing withdrawn, else None."""
    contact = Q()
    if signup.email:
        contact |= Q(email=signup.email)
    if signup.phone:
        contact |= Q(phone=signup.phone)
    found = list(Subscription.objects.filter(contact, shop=shop).filter(
        Q(variant_id=variant_pk) | Q(marketing_withdrawn_at__isnull=False))
        .only("variant_id", "marketing_withdrawn_at")[:10])
    same = [sub for sub in found if sub.variant_id == variant_pk]
    candidates = same or found
    return candidates[0] if candidates else None


def import_sweep() -> int:
    """Sweeper handler: re-enqueue unfinished imports whose job is gone (no heartbeat for
    `STALE_SECONDS`, or still queued that long)."""
    cutoff = timezone.now() - timedelta(seconds=STALE_SECONDS)
    stranded = WaitlistImport.objects.filter(state__in=WaitlistImport.UNFINISHED).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, updated_at__lt=cutoff))
    return sum(int(import_nudge(import_id=pk)) for pk in stranded.values_list("id", flat=True))
