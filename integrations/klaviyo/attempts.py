"""The call log's writer: one `SyncAttempt` row per outbound Klaviyo call, linked to the
records it carried (`SyncAttemptSubscription`), with what was sent and the fix sentence.

Every call of every kind of work goes through a client whose observer is one of these (the
pipeline's `Delivery.call`, connect, re-test, list change). No key reaches a row: the client
reports no header, and free text (path, detail, request) goes through `redact`; the request
summary also loses the shopper's contact and name (`summary_mask`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from django.db import transaction

from integrations.klaviyo.client import Attempt, Observer
from integrations.klaviyo.messages import sentence_for
from integrations.klaviyo.models import SyncAttempt, SyncAttemptSubscription
from notifyme.core.logging import redact
from notifyme.shops.models import Shop

#: A write-scope probe answered 400/404: Klaviyo passed the scope check (see scopes.py).
PROBE_OK_KINDS = frozenset({"bad_request", "not_found"})
#: How much of a request the call log keeps (`SyncAttempt.request_summary`).
SUMMARY_CHARS = 2000
#: Personal values a request carries, masked in the summary: the shopper's contact and name
#: are on their subscription (and erased with it); the call log keeps the request's shape.
_PERSONAL_FIELDS = re.compile(
    r'("(?:email|phone_number|first_name|last_name|external_id)"\s*:\s*)"(?:[^"\\]|\\.)*'
    r'(?:"|$)')  # a value cut off by the size cap is masked too
_EMAIL = re.compile(r"[^\s\"'(),<>@]+@[^\s\"'(),<>@]+")
_PHONE = re.compile(r"\+\d[\d\s-]{5,}\d")
#: A Klaviyo profile id (a ULID): it names the shopper in Klaviyo, and a call made after their
#: erasure (the data-privacy deletion request itself) is linked to no subscription to scrub.
_PROFILE_ID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")


def summary_mask(text: str) -> str:
    """`text` with every email, phone number, name and Klaviyo profile id replaced by a
    placeholder (and secrets redacted): what `request_summary` stores."""
    text = _PERSONAL_FIELDS.sub(r'\1"…"', redact(text))
    text = _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))
    return _PROFILE_ID.sub("[profile id]", text)


def attempt_recorder(
    *, shop: Shop, subscription_id: int | None = None,
    subscription_ids: Iterable[int] = (), retry_count: int = 0,
    purpose: str = SyncAttempt.Purpose.SYNC,
) -> Observer:
    """A client observer that writes one SyncAttempt row per call (no key, details redacted),
    linked to every record the call carried (`subscription_ids`, plus `subscription_id`):
    one INSERT for the attempt and one for all its links, in one transaction."""
    carried = list(dict.fromkeys([*([subscription_id] if subscription_id else []),
                                  *subscription_ids]))
    single = carried[0] if len(carried) == 1 else None

    def record(attempt: Attempt) -> None:
        error = attempt.error
        # No savepoint: inside the caller's transaction (a deferred flush) a failed link
        # insert fails that transaction anyway; alone, this is its own transaction.
        with transaction.atomic(savepoint=False):
            row = SyncAttempt.objects.create(
                shop=shop, subscription_id=single, operation=attempt.operation[:64],
                purpose=purpose, method=attempt.method[:8], path=redact(attempt.path)[:255],
                status_code=attempt.status, duration_ms=max(0, attempt.duration_ms),
                records=max(0, attempt.records), retry_count=retry_count,
                error_kind=error.kind if error else "",
                error_code=(error.code if error else "")[:64],
                error_detail=redact(error.detail or str(error))[:2000] if error else "",
                error_pointer=(error.pointer if error else "")[:255],
                klaviyo_error_id=(error.error_id if error else "")[:64],
                request_summary=summary_mask(attempt.request)[:SUMMARY_CHARS],
                fix=sentence_for(error) if error else "",
            )
            if carried:
                SyncAttemptSubscription.objects.bulk_create(
                    [SyncAttemptSubscription(attempt=row, subscription_id=pk) for pk in carried])

    return record


def verification_recorder(*, shop: Shop) -> Observer:
    """`attempt_recorder` for key verification: scope probes are labelled `probe` and
    connection checks (account, list) `connect`; a probe's expected 400/404 (the scope is
    present) is logged as a success, so support sees every call but no false errors."""
    probe = attempt_recorder(shop=shop, purpose=SyncAttempt.Purpose.PROBE)
    check = attempt_recorder(shop=shop, purpose=SyncAttempt.Purpose.CONNECT)

    def observe(attempt: Attempt) -> None:
        if not attempt.operation.startswith("verify_"):
            check(attempt)
            return
        expected = attempt.error is not None and attempt.error.kind in PROBE_OK_KINDS
        probe(dataclasses.replace(attempt, error=None) if expected else attempt)

    return observe
