"""Group commit of the intake (PostgreSQL, outside a transaction): deliveries that arrive
together are stored by one statement and released only after its commit; a bad row fails only
its own request; a stuck writer does not hold a request; every webhook id is stored once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from notifyme.shops.models import Shop
from notifyme.webhooks import group_commit, intake
from notifyme.webhooks.intake import delivery_headers
from notifyme.webhooks.models import WebhookEvent
from tests.fixtures.shopify import signed_webhook

from .conftest import SHOP, URL, webhook_jobs

pytestmark = pytest.mark.django_db(transaction=True)


def _params(webhook_id: str) -> list[Any]:
    """The intake's own row for a signed `inventory_levels/update` delivery."""
    body, meta = signed_webhook("inventory_levels/update", {"inventory_item_id": 1},
                                shop_domain=SHOP, webhook_id=webhook_id)
    headers = delivery_headers({k[5:].replace("_", "-").title(): v
                                for k, v in meta.items() if k.startswith("HTTP_")})
    columns = intake._columns(headers, body)
    adapt = connection.ops.adapt_datetimefield_value
    return [SHOP] + [adapt(columns[n]) if n in {"triggered_at", "received_at", "available_at",
                                                "processed_at", "leased_until"} else columns[n]
                     for n in intake._COLUMN_NAMES]


class Gate:
    """A `committed` callback that holds the writer after its first batch until opened, so the
    rows posted meanwhile queue up; records each batch's tags."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.batches: list[set[Hashable]] = []

    def __call__(self, tags: set[Hashable]) -> None:
        self.batches.append(tags)
        if len(self.batches) == 1:
            self.opened.wait(10)


@pytest.fixture
def writer() -> Iterator[tuple[group_commit.GroupWriter, Gate, list[int]]]:
    gate, sizes = Gate(), []

    def sql(rows: int) -> str:
        sizes.append(rows)
        return intake._insert_sql(rows)

    writer = group_commit.GroupWriter("default", sql, gate)
    yield writer, gate, sizes
    gate.opened.set()
    writer.close()


def _start(writer: group_commit.GroupWriter, rows: list[list[Any]],
           outcome: dict[int, BaseException | None]) -> list[threading.Thread]:
    """One thread per row inserting it through `writer`; `outcome[i]` is set when row i's
    insert returned (None) or raised (the error)."""

    def one(index: int) -> None:
        try:
            writer.insert(rows[index], tag=SHOP)
            outcome[index] = None
        except Exception as error:
            outcome[index] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(rows))]
    for thread in threads:
        thread.start()
    return threads


def _until(condition: Callable[[], object]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _join(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(10)


def test_rows_that_arrive_together_share_one_statement_and_wait_for_its_commit(
        shop: Shop, writer: Any) -> None:
    group_writer, gate, sizes = writer
    rows = [_params(f"wh-{i}") for i in range(12)]
    outcome: dict[int, BaseException | None] = {}
    first = _start(group_writer, rows[:1], outcome)
    _until(lambda: gate.batches)  # the writer is held after committing the first row
    rest = _start(group_writer, rows[1:], {})
    _until(lambda: group_writer._queue.qsize() == 11)  # the other rows queue behind it
    assert outcome == {}  # not even the first is released before its after-commit step
    gate.opened.set()
    _join(first + rest)
    assert outcome == {0: None}
    assert sizes == [1, 11]
    assert gate.batches == [{SHOP}, {SHOP}]  # one nudge per shop and batch
    assert WebhookEvent.objects.filter(shop=shop).count() == 12


def test_a_bad_row_fails_only_its_own_insert(shop: Shop, writer: Any) -> None:
    group_writer, gate, _sizes = writer
    rows = [_params(f"wh-{i}") for i in range(5)]
    rows[3][intake._COLUMN_NAMES.index("topic") + 1] = None  # NOT NULL
    gate.opened.set()
    outcome: dict[int, BaseException | None] = {}
    _join(_start(group_writer, rows, outcome))
    assert isinstance(outcome[3], IntegrityError)
    assert sorted(i for i, error in outcome.items() if error is None) == [0, 1, 2, 4]
    assert set(WebhookEvent.objects.values_list("webhook_id", flat=True)) == {
        "wh-0", "wh-1", "wh-2", "wh-4"}


def test_a_stuck_writer_does_not_hold_a_request_and_nothing_is_stored_twice(
        shop: Shop, writer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    group_writer, gate, _sizes = writer
    monkeypatch.setattr(group_commit, "WAIT_SECONDS", 0.3)
    first = _start(group_writer, [_params("wh-0")], {})
    _until(lambda: gate.batches)  # the writer is now held after its first batch
    group_writer.insert(_params("wh-1"), tag=SHOP)  # waits 0.3 s, then writes it itself
    assert WebhookEvent.objects.filter(webhook_id="wh-1").count() == 1
    gate.opened.set()  # the writer wakes and writes wh-1 again: ignored as a duplicate
    _join(first)
    group_writer.close()
    assert sorted(WebhookEvent.objects.values_list("webhook_id", flat=True)) == ["wh-0", "wh-1"]


def test_a_concurrent_burst_through_the_view_is_stored_once_and_nudged(shop: Shop) -> None:
    """Real requests on threads (the gunicorn shape), duplicates among them: 200 each, every
    webhook id once, the shop's job enqueued."""
    deliveries = [signed_webhook("inventory_levels/update", {"inventory_item_id": i},
                                 shop_domain=SHOP, webhook_id=f"wh-{i % 30}")
                  for i in range(40)]
    statuses: list[int] = []
    start = threading.Barrier(len(deliveries))

    def post(body: bytes, headers: dict[str, str]) -> None:
        start.wait()
        statuses.append(Client().post(URL, body, content_type="application/json",
                                      **headers).status_code)

    threads = [threading.Thread(target=post, args=d) for d in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    intake._group_writer("default").close()
    assert statuses == [200] * 40
    assert WebhookEvent.objects.filter(shop=shop).count() == 30
    assert len(webhook_jobs()) == 1


def test_a_failing_idle_check_does_not_kill_the_writer(
        shop: Shop, writer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The idle writer's connection check talks to the database; when that raises, the next
    request must still be written by the writer (not wait for the fallback)."""
    group_writer, gate, sizes = writer
    gate.opened.set()
    checks: list[int] = []

    def broken_check(self: Any) -> None:
        checks.append(1)
        raise RuntimeError("database went away")

    monkeypatch.setattr(group_commit, "IDLE_SECONDS", 0.05)
    monkeypatch.setattr(BaseDatabaseWrapper, "close_if_unusable_or_obsolete", broken_check)
    monkeypatch.setattr(group_commit, "WAIT_SECONDS", 2.0)
    group_writer.insert(_params("wh-0"), tag=SHOP)
    _until(lambda: len(checks) >= 2)  # idle twice: the thread survived the first failure
    started = time.monotonic()
    group_writer.insert(_params("wh-1"), tag=SHOP)
    assert time.monotonic() - started < 2.0  # answered by the writer, not the fallback
    assert sizes == [1, 1]
    assert sorted(WebhookEvent.objects.values_list("webhook_id", flat=True)) == ["wh-0", "wh-1"]
