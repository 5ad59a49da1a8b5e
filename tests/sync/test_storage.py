"""Storage settings the sync's throughput depends on (PostgreSQL, as the suite always runs)."""

from __future__ import annotations

import pytest
from django.db import connection

from notifyme.subscriptions.models import Subscription
from notifyme.sync.models import OutboxItem


def _fillfactor(table: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [table])
        (options,) = cursor.fetchone()
    found = [o for o in options or [] if o.startswith("fillfactor=")]
    return int(found[0].split("=", 1)[1]) if found else None


@pytest.mark.django_db
def test_tables_updated_in_bulk_leave_room_for_hot_updates() -> None:
    # A bulk round rewrites every row of a page in one statement (sync state on subscriptions,
    # the lease on outbox rows): the pages must keep room for those new versions, or each
    # update writes every index (measured in bench/backlog.py).
    assert _fillfactor(Subscription._meta.db_table) == 55
    assert _fillfactor(OutboxItem._meta.db_table) == 50


def test_rows_read_with_the_compiled_loader_are_the_rows_django_reads(merchant) -> None:
    """`value_rows` (psycopg's own timestamptz loader, used by every job's row load) returns
    exactly what Django's `values_list` does, datetimes included, and the query is still seen
    by Django's query log."""
    from datetime import timedelta

    from django.test.utils import CaptureQueriesContext

    from notifyme.delivery.sql import value_rows

    from .conftest import add_subscribers

    add_subscribers(merchant, 3, consent=True, age=timedelta(days=3, microseconds=123))
    rows = (OutboxItem.objects.order_by("id")
            .values_list("id", "created_at", "subscription__created_at",
                         "subscription__consented_at", "subscription__email"))
    with CaptureQueriesContext(connection) as queries:
        fast = value_rows(rows)
    assert len(queries) == 1
    assert fast == list(rows)
    assert all(value.utcoffset() == timedelta(0) for row in fast for value in row[1:4])
