"""Leases on work rows: many workers, each row held by at most one of them at a time.

Works for any model with `state`, `available_at`, `leased_until` and `attempts` (OutboxItem,
ImportBatch, the restock deliveries). A model that also has `lease_token` gets fencing: every
outcome helper takes the token the claim handed out and only touches rows still held under it,
so a worker that stalled past its lease cannot overwrite what the next holder did.

Contract
- `claim(queryset, limit=, lease_seconds=, token=)` -> ids. Picks rows of `queryset` that are
  `pending`, due (`available_at <= now`) and not leased (or whose lease expired), marks them
  leased until now + `lease_seconds`, and returns their ids. On PostgreSQL it is one transaction
  with `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent claimers skip each other's rows instead
  of waiting; elsewhere (SQLite) a conditional UPDATE re-checks the lease, which is equivalent for
  a single-writer database.
- `release` hands rows back (optionally later, no attempt counted: rate limits, halts), `retry`
  counts an attempt and backs off exponentially with jitter (outages), `complete` and `fail`
  record final outcomes. All clear the lease.
- A lease is not a lock: work done under it must be idempotent (Klaviyo upserts, deterministic
  event `unique_id`s), because a worker can lose its lease while a call is in flight.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from notifyme.delivery.sql import in_ids

PENDING = "pending"
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 900.0


def new_token() -> str:
    """A fresh lease token (32 hex chars)."""
    return uuid.uuid4().hex


def _has_token(model: type[models.Model]) -> bool:
    return any(field.name == "lease_token" for field in model._meta.get_fields())


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
    values: dict[str, Any] = {"leased_until": until}
    if _has_token(model):
        values["lease_token"] = token or new_token()
    candidates = due(queryset, now=now).order_by(*order_by)
    if connection.vendor == "postgresql":
        return _claim_postgresql(model, candidates, limit=limit, values=values)
    ids = list(candidates.values_list("id", flat=True)[:limit])
    if not ids:
        return []
    with transaction.atomic():
        due(model._default_manager.filter(in_ids(ids)), now=now).update(**values)
    held = model._default_manager.filter(in_ids(ids), leased_until=until)
    if "lease_token" in values:
        held = held.filter(lease_token=values["lease_token"])
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


def _held(model: type[models.Model], ids: Iterable[int], token: str | None) -> QuerySet[Any]:
    rows = model._default_manager.filter(in_ids(ids))
    if token and _has_token(model):
        rows = rows.filter(lease_token=token)
    return rows


def extend(
    model: type[models.Model], ids: Iterable[int], *, token: str | None, lease_seconds: float
) -> int:
    """Push the lease of rows still held under `token` to now + `lease_seconds`; count kept."""
    until = timezone.now() + timedelta(seconds=lease_seconds)
    return int(_held(model, ids, token).filter(state=PENDING).update(leased_until=until))


def release(
    model: type[models.Model], ids: Iterable[int], *, token: str | None = None,
    delay: float = 0.0, **fields: Any,
) -> int:
    """Give rows back, due again after `delay` seconds; no attempt is counted."""
    available = timezone.now() + timedelta(seconds=max(0.0, delay))
    return int(_held(model, ids, token).update(
        leased_until=None, available_at=available, **fields))


def backoff_seconds(attempts: int, *, base: float = BACKOFF_BASE_SECONDS,
                    cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Full-jitter exponential backoff: uniform in [0.5, 1] x min(cap, base x 2^(attempts-1))."""
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return ceiling * (0.5 + random.random() / 2)


def retry(
    model: type[models.Model], ids: Iterable[int], *, token: str | None = None,
    error: str = "", attempts: int | None = None, **fields: Any,
) -> float:
    """Count a failed attempt and make rows due again after a jittered backoff; returns it."""
    ids = list(ids)
    held = _held(model, ids, token)
    if attempts is None:
        attempts = 1 + max(held.values_list("attempts", flat=True), default=0)
    delay = backoff_seconds(attempts)
    held.update(
        leased_until=None, attempts=models.F("attempts") + 1,
        available_at=timezone.now() + timedelta(seconds=delay),
        **({"last_error": error[:2000]} if error else {}), **fields,
    )
    return delay


def complete(
    model: type[models.Model], ids: Iterable[int], *, token: str | None = None,
    state: str = "done", **fields: Any,
) -> int:
    """Final success (or another final `state`): lease cleared, `completed_at` set if present."""
    values: dict[str, Any] = {"state": state, "leased_until": None, **fields}
    if any(f.name == "completed_at" for f in model._meta.get_fields()):
        values.setdefault("completed_at", timezone.now())
    return int(_held(model, ids, token).update(**values))


def fail(
    model: type[models.Model], ids: Iterable[int], *, token: str | None = None, error: str = "",
    state: str = "failed", **fields: Any,
) -> int:
    """Permanent failure: state `failed` with the reason; never retried automatically."""
    return complete(model, ids, token=token, state=state, last_error=error[:2000], **fields)
