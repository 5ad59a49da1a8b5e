"""The pipeline's SQL helpers (one copy for every kind of work):

- `in_ids`: "id in this list" for the ORM, one parameter however long the list is. Django
  renders `id__in=[...]` as `IN (%s, %s, ...)`: at 10,000 ids that is 10,000 parameters to
  adapt, send and parse per statement, a large share of a bulk job's CPU. On PostgreSQL the list
  goes as one array instead (`IN (SELECT unnest(%s::bigint[]))`); other databases keep the
  plain form.
- `ids_where`: the same for hand-written statements, shaped so the planner takes the primary
  key for a (nearly contiguous) chunk of ids.
- `value_rows`: a `values_list()` queryset's rows with psycopg's own (C) datetime loader.
  Django registers a pure-Python `timestamptz` loader on its PostgreSQL connections (to apply
  its time zone), which dominated the fetch of a job's 10,000 rows. Django's connections run in
  UTC, which the compiled loader reads from the connection, so the values are the same aware
  datetimes.
- `relax_commit`: this transaction's COMMIT does not wait for the WAL flush.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from psycopg.pq import Format


def in_ids(ids: Iterable[int], field: str = "id") -> Q:
    values = [int(i) for i in ids]
    if connection.vendor == "postgresql":
        # The array as its text literal ('{1,2,3}', integers only): joined in C, where psycopg's
        # list adapter walks a 10,000-id list item by item in Python.
        literal = "{" + ",".join(map(str, values)) + "}"
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", (literal,))})
    return Q(**{f"{field}__in": values})


def value_rows(queryset: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """`list(queryset)` for a `values_list()` queryset (tuples), read through Django's cursor
    (so query logging and counting see it) with psycopg's compiled `timestamptz` loader.
    Falls back to the queryset itself off PostgreSQL, on a connection not in UTC, or when a
    column needs a Django converter."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    if (connection.vendor != "postgresql" or connection.timezone_name != "UTC"
            or compiler.get_converters([column for column, *_ in compiler.select])):
        return list(queryset)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        oid = raw.adapters.types["timestamptz"].oid
        raw.adapters.register_loader(oid, psycopg.adapters.get_loader(oid, Format.TEXT))
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def ids_where(db: BaseDatabaseWrapper, ids: Sequence[int], column: str) -> tuple[str, list[Any]]:
    """`column` is one of `ids`, as SQL and parameters, written so the planner takes the primary
    key.

    PostgreSQL: `= ANY(%s)` with one array parameter plus `BETWEEN min AND max` — a chunk's ids
    are (nearly) contiguous, and without the range the planner prices 1,000 index lookups above
    a (parallel) sequential scan of a 100,000-row table, which then costs every chunk a full
    scan. Elsewhere: `IN (%s, ...)`.
    """
    if db.vendor == "postgresql":
        return (f"{column} = ANY(%s) AND {column} BETWEEN %s AND %s",
                [list(ids), min(ids), max(ids)])
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def relax_commit(db: BaseDatabaseWrapper) -> None:
    """This transaction's COMMIT does not wait for the WAL flush (PostgreSQL only).

    Only for work whose every outcome is idempotent: a database crash may forget the last
    fraction of a second of outcomes (a lease, a "sent" mark), and what follows is a re-claim or
    a resend that Klaviyo drops (same `unique_id`). Nothing else in the transaction is weakened.
    """
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
