# ruff: noqa: S608  (identifiers come from model _meta; every value is a query parameter)
"""The set-based statements behind restocks (portable SQL: PostgreSQL, and SQLite for `make run`).

Everything here touches any number of rows with a constant number of statements: one INSERT …
SELECT writes a chunk of deliveries (any size, by a range of subscriptions), one UPDATE marks a
thousand sent. Table names come from the
models' `_meta`, values always travel as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from notifyme.delivery.sql import ids_where
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.subscriptions.models import Subscription

DELIVERY = RestockDelivery._meta.db_table
# Updates by id list also re-check the state, written so that no index on state/status can
# serve it: otherwise the planner (on fresh statistics) picks the state index and reads every
# pending row of the table, or scans it, for each chunk — quadratic over a big restock. With
# the condition wrapped, the primary key is the only way in: 1,000 lookups per chunk.
_UNINDEXED_STATE = "COALESCE(state, '')"
RESTOCK = Restock._meta.db_table
SUBSCRIPTION = Subscription._meta.db_table


#: A subscription's place in line, and a watermark between chunks: (created_at, id).
Mark = tuple[datetime, int]


def _keyset(connection: BaseDatabaseWrapper, after: Mark | None, upto: Mark | None,
            params: dict[str, Any]) -> str:
    """SQL for "(s.created_at, s.id) > after and <= upto", spelled so that the subscriptions'
    (shop, variant, status, created_at) index serves it as a range (a row comparison would not
    be an index condition there). Times go as the backend stores them (SQLite: its text)."""
    adapt = connection.ops.adapt_datetimefield_value
    sql = ""
    if after is not None:
        params["after_at"], params["after_id"] = adapt(after[0]), after[1]
        sql += (" AND s.created_at >= %(after_at)s"
                " AND (s.created_at > %(after_at)s OR s.id > %(after_id)s)")
    if upto is not None:
        params["upto_at"], params["upto_id"] = adapt(upto[0]), upto[1]
        sql += (" AND s.created_at <= %(upto_at)s"
                " AND (s.created_at < %(upto_at)s OR s.id <= %(upto_id)s)")
    return sql


def chunk_end(
    connection: BaseDatabaseWrapper, *, shop_id: int, variant_id: int, ceiling: int,
    after: Mark | None, limit: int,
) -> Mark | None:
    """The mark of the `limit`-th waiting subscription after `after` (oldest first), or None
    when fewer than `limit` are left: the next chunk then takes them all."""
    params: dict[str, Any] = {"shop": shop_id, "variant": variant_id, "ceiling": ceiling,
                              "active": Subscription.Status.ACTIVE, "skip": max(0, limit - 1)}
    statement = (
        f"SELECT s.created_at, s.id FROM {SUBSCRIPTION} s WHERE s.shop_id = %(shop)s "
        f"AND s.variant_id = %(variant)s AND s.status = %(active)s AND s.id <= %(ceiling)s"
        f"{_keyset(connection, after, None, params)} "
        f"ORDER BY s.created_at, s.id LIMIT 1 OFFSET %(skip)s"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if not row:
        return None
    created = row[0]
    if isinstance(created, str):  # SQLite hands its text back
        created = datetime.fromisoformat(created)
    if timezone.is_naive(created):
        created = timezone.make_aware(created, UTC)
    return created, int(row[1])


def insert_deliveries(
    connection: BaseDatabaseWrapper,
    *,
    restock_id: int,
    shop_id: int,
    variant_id: int,
    ceiling: int,
    after: Mark | None,
    upto: Mark | None,
    position_base: int,
    cooldown_cutoff: datetime | None,
    exclude_in_flight: bool,
    available_at: datetime | None,
) -> int:
    """One row per active subscription of the variant with an id up to `ceiling` and a mark
    in (`after`, `upto`] (None: unbounded), numbered oldest first from `position_base` + 1;
    returns the count. A row that exists already is left alone (ON CONFLICT DO NOTHING), so a
    chunk written twice adds nothing.

    With `cooldown_cutoff`, a subscription whose email or phone got this variant's event since
    then is inserted as `skipped` (nobody is alerted twice while stock flaps). With
    `exclude_in_flight`, subscriptions with a released, unsent delivery in another restock of the
    variant are left out: that delivery will reach them.
    """
    params: dict[str, Any] = {
        "restock": restock_id, "shop": shop_id, "variant": variant_id, "ceiling": ceiling,
        "available_at": available_at, "cutoff": cooldown_cutoff, "base": position_base,
        "pending": RestockDelivery.State.PENDING, "skipped": RestockDelivery.State.SKIPPED,
        "sent": RestockDelivery.State.SENT, "active": Subscription.Status.ACTIVE,
        "prefix": f"notifyme:bis:{restock_id}:",
        "cooldown_note": "Notified for this variant within the cool-down.",
    }
    state = "%(pending)s"
    note = "''"
    if cooldown_cutoff is not None:
        recent = (
            f"SELECT s2.{{col}} FROM {DELIVERY} d JOIN {RESTOCK} r ON r.id = d.restock_id "
            f"JOIN {SUBSCRIPTION} s2 ON s2.id = d.subscription_id "
            f"WHERE r.variant_id = %(variant)s AND d.state = %(sent)s "
            f"AND d.sent_at >= %(cutoff)s AND s2.{{col}} <> ''"
        )
        hit = (f"((s.email <> '' AND s.email IN ({recent.format(col='email')})) OR "
               f"(s.phone <> '' AND s.phone IN ({recent.format(col='phone')})))")
        state = f"CASE WHEN {hit} THEN %(skipped)s ELSE %(pending)s END"
        note = f"CASE WHEN {hit} THEN %(cooldown_note)s ELSE '' END"
    in_flight = ""
    if exclude_in_flight:
        in_flight = (
            f" AND NOT EXISTS (SELECT 1 FROM {DELIVERY} d JOIN {RESTOCK} r ON r.id = d.restock_id "
            f"WHERE d.subscription_id = s.id AND r.variant_id = %(variant)s "
            f"AND r.id <> %(restock)s AND d.state = %(pending)s AND d.available_at IS NOT NULL)"
        )
    statement = (
        f"INSERT INTO {DELIVERY} (restock_id, subscription_id, position, state, available_at, "
        f"leased_until, lease_token, attempts, unique_id, sent_at, last_error) "
        f"SELECT %(restock)s, s.id, %(base)s + ROW_NUMBER() OVER (ORDER BY s.created_at, s.id), "
        f"{state}, %(available_at)s, NULL, '', 0, %(prefix)s || CAST(s.id AS VARCHAR(20)), "
        f"NULL, {note} "
        f"FROM {SUBSCRIPTION} s WHERE s.shop_id = %(shop)s AND s.variant_id = %(variant)s "
        f"AND s.status = %(active)s AND s.id <= %(ceiling)s"
        f"{_keyset(connection, after, upto, params)}"
        f"{in_flight} ON CONFLICT (restock_id, subscription_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return int(cursor.rowcount)


def pending_after(connection: BaseDatabaseWrapper, *, restock_id: int, position: int) -> int:
    """Pending rows of a restock after `position` (the partial pending index serves it: the
    count of a chunk just written costs that chunk, not the restock)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {DELIVERY} WHERE restock_id = %s AND state = %s "
            f"AND position > %s",
            [restock_id, RestockDelivery.State.PENDING, position],
        )
        return int(cursor.fetchone()[0])


def subscription_ceiling(connection: BaseDatabaseWrapper) -> int:
    """The highest subscription id committed now (ids come from one sequence; the primary key
    answers it without reading the variant's subscriptions)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {SUBSCRIPTION}")
        return int(cursor.fetchone()[0])


def delivery_counts(connection: BaseDatabaseWrapper, *, restock_id: int) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT state, COUNT(*) FROM {DELIVERY} WHERE restock_id = %s GROUP BY state",
            [restock_id],
        )
        return {state: int(count) for state, count in cursor.fetchall()}


def release_batch(
    connection: BaseDatabaseWrapper, *, restock_id: int, size: int, now: datetime
) -> int:
    """Make the next `size` waiting deliveries (lowest positions) due now; returns how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DELIVERY} SET available_at = %s WHERE id IN ("
            f"SELECT id FROM {DELIVERY} WHERE restock_id = %s AND state = %s "
            f"AND available_at IS NULL ORDER BY position LIMIT %s)",
            [now, restock_id, RestockDelivery.State.PENDING, size],
        )
        return int(cursor.rowcount)


def mark_sent(
    connection: BaseDatabaseWrapper, *, restock_id: int, ids: Sequence[int], token: str,
    now: datetime,
) -> int:
    """Pending → sent for `ids` still held under the lease `token`, their subscriptions →
    notified, the restock's `sent` counter += the rows that changed (an in-database increment,
    like F("sent") + n). Rows another worker finished or claimed since are left alone and not
    counted twice. Returns that count.

    Three statements for any chunk size; call inside one transaction."""
    if not ids:
        return 0
    where, params = ids_where(connection, ids, "id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DELIVERY} SET state = %s, sent_at = %s, leased_until = NULL, "
            f"attempts = attempts + 1, last_error = '' "
            f"WHERE {where} AND {_UNINDEXED_STATE} = %s AND lease_token = %s "
            f"RETURNING subscription_id",
            [RestockDelivery.State.SENT, now, *params, RestockDelivery.State.PENDING, token],
        )
        subscription_ids = [row[0] for row in cursor.fetchall()]
        if subscription_ids:
            where, params = ids_where(connection, subscription_ids, "id")
            cursor.execute(
                f"UPDATE {SUBSCRIPTION} SET status = %s, notified_at = %s, updated_at = %s "
                f"WHERE {where} AND COALESCE(status, '') = %s",
                [Subscription.Status.NOTIFIED, now, now, *params, Subscription.Status.ACTIVE],
            )
            cursor.execute(f"UPDATE {RESTOCK} SET sent = sent + %s WHERE id = %s",
                           [len(subscription_ids), restock_id])
    return len(subscription_ids)


def mark_final(
    connection: BaseDatabaseWrapper, *, ids: Sequence[int], token: str, state: str, error: str
) -> int:
    """Pending → failed/skipped for `ids` still held under `token`, with the reason; returns
    how many changed."""
    if not ids:
        return 0
    where, params = ids_where(connection, ids, "id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {DELIVERY} SET state = %s, leased_until = NULL, last_error = %s "
            f"WHERE {where} AND {_UNINDEXED_STATE} = %s AND lease_token = %s",
            [state, error[:2000], *params, RestockDelivery.State.PENDING, token],
        )
        return int(cursor.rowcount)


def claimed_rows(connection: BaseDatabaseWrapper, *, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """(id, unique_id, subscription_id, email, phone, customer id, status, attempts,
    position) per id, in line order."""
    if not ids:
        return []
    where, params = ids_where(connection, ids, "d.id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.id, d.unique_id, d.subscription_id, s.email, s.phone, "
            f"s.shopify_customer_id, s.status, d.attempts, d.position FROM {DELIVERY} d "
            f"JOIN {SUBSCRIPTION} s ON s.id = d.subscription_id "
            f"WHERE {where} ORDER BY d.position",
            params,
        )
        return list(cursor.fetchall())
