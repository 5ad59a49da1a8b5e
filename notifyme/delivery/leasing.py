"""Leases on work rows: many workers, each row held by at most one of them at a time.

Works for every model built on `notifyme.delivery.models.WorkRow` (OutboxItem, ImportBatch,
RestockDelivery), and every one of them is fenced: each claim hands out a token, and every
outcome helper requires it and only touches rows still held under it, so a worker that stalled
past its lease cannot overwrite what the next holder did.

Contract
- `claim(queryset, limit=, lease_seconds=, token=)` -> ids. Picks rows of `queryset` that are
  `pending`, due (`available_at <= now`) and not leased (or whose lease expired), marks them
  leased until now + `lease_seconds` under `token` (a fresh one when not given), and returns
  their ids. On PostgreSQL it is one transaction
  with `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent claimers skip each other's rows instead
  of waiting; elsewhere (SQLite) a conditional UPDATE re-checks the lease, which is equivalent for
  a single-writer database.
- `extend` renews the lease, `release` hands rows back (optionally later, no attempt counted:
  rate limits, halts), `retry` counts an attempt and backs off through `policy.backoff_seconds`
  (outages), `complete` and `fail` record final outcomes. All take `token=` and clear the lease.
- A lease is not a lock: work done under it must be idempotent (Klaviyo upserts, deterministic
  event `unique_id`s), because a worker can lose its lease while a call is in flight.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from notifyme.delivery.policy import backoff_seconds
from notifyme.delivery.sql import in_ids

PENDING = "pending"


class Retried(NamedTuple):
    rows: int  # rows still held under the token, now backed off
    delay: float  # seconds until they are due again


def new_token() -> str:
    """A fresh lease token (32 hex chars)."""
    return uuid.uuid4().hex


def due(queryset: QuerySet[Any], *, now: datetime | None = None) -> QuerySet[Any]:
    """Rows a claim may take now: pending, due, and not held under a live lease."""
    now = now or timezone.now()
    return queryset.filter(state=PENDING, available_at__lte=now).filter(
        Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    )


def claim(
    queryset: QuerySet[Any],
    *,
    limit: int,
    lease_seconds: float,
    token: str | None = None,
    order_by: Iterable[str] = ("available_at", "id"),
) -> list[int]:
    """Lease up to `limit` due rows of `queryset`; return their ids (possibly empty)."""
    if limit <= 0:
        return []
    model = queryset.model
    now = timezone.now()
    until = now + timedelta(seconds=lease_seconds)
    values: dict[str, Any] = {"leased_until": until, "lease_token": token or new_token()}
    candidates = due(queryset, now=now).order_by(*order_by)
    if connection.vendor == "postgresql":
        return _claim_postgresql(model, candidates, limit=limit, values=values)
    ids = list(candidates.values_list("id", flat=True)[:limit])
    if not ids:
        return []
    with transaction.atomic():
        due(model._default_manager.filter(in_ids(ids)), now=now).update(**values)
    held = model._default_manager.filter(in_ids(ids), leased_until=until,
                                         lease_token=values["lease_token"])
    return list(held.values_list("id", flat=True))


def _claim_postgresql(model: type[models.Model], candidates: QuerySet[Any], *, limit: int,
                      values: dict[str, Any]) -> list[int]:
    """One statement: UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING id."""
    table = model._meta.db_table
    pick = candidates.values("id")[:limit]
    sub_sql, sub_params = pick.query.sql_with_params()
    columns = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in values)
    sql = (f"UPDATE {connection.ops.quote_name(table)} SET {columns} "  # noqa: S608
           f"WHERE id IN ({sub_sql} FOR UPDATE OF {connection.ops.quote_name(table)} SKIP LOCKED) "
           "RETURNING id")
    with connection.cursor() as cursor:  # one statement: atomic on its own
        cursor.execute(sql, [*values.values(), *sub_params])
        return [row[0] for row in cursor.fetchall()]


def _held(model: type[models.Model], ids: Iterable[int], token: str) -> QuerySet[Any]:
    """The rows of `ids` still held under `token` (an empty token is a caller's bug)."""
    if not token:
        raise ValueError("a lease token is required (fencing)")
    return model._default_manager.filter(in_ids(ids), lease_token=token)


def extend(
    model: type[models.Model], ids: Iterable[int], *, token: str, lease_seconds: float
) -> int:
    """Push the lease of rows still held under `token` to now + `lease_seconds`; count kept."""
    until = timezone.now() + timedelta(seconds=lease_seconds)
    return int(_held(model, ids, token).filter(state=PENDING).update(leased_until=until))


def release(
    model: type[models.Model], ids: Iterable[int], *, token: str,
    delay: float = 0.0, **fields: Any,
) -> int:
    """Give rows back, due again after `delay` seconds; no attempt is counted."""
    available = timezone.now() + timedelta(seconds=max(0.0, delay))
    return int(_held(model, ids, token).update(
        leased_until=None, available_at=available, **fields))


def retry(
    model: type[models.Model], ids: Iterable[int], *, token: str,
    error: str = "", attempts: int | None = None, **fields: Any,
) -> Retried:
    """Count a failed attempt and make rows due again after a jittered backoff."""
    ids = list(ids)
    held = _held(model, ids, token)
    if attempts is None:
        attempts = 1 + max(held.values_list("attempts", flat=True), default=0)
    delay = backoff_seconds(attempts)
    count = held.update(
        leased_until=None, attempts=models.F("attempts") + 1,
        available_at=timezone.now() + timedelta(seconds=delay),
        **({"last_error": error[:2000]} if error else {}), **fields,
    )
    return Retried(int(count), delay)


def complete(
    model: type[models.Model], ids: Iterable[int], *, token: str,
    state: str = "done", **fields: Any,
) -> int:
    """Final success (or another final `state`): lease cleared, `completed_at` set if present."""
    values: dict[str, Any] = {"state": state, "leased_until": None, **fields}
    if any(f.name == "completed_at" for f in model._meta.get_fields()):
        values.setdefault("completed_at", timezone.now())
    return int(_held(model, ids, token).update(**values))


def fail(
    model: type[models.Model], ids: Iterable[int], *, token: str, error: str = "",
    state: str = "failed", **fields: Any,
) -> int:
    """Permanent failure: state `failed` with the reason; never retried automatically."""
    return complete(model, ids, token=token, state=state, last_error=error[:2000], **fields)
