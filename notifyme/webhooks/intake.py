"""Storing a verified delivery: the headers checked, the body parsed, one row, one nudge.

`delivery_headers(headers)` reads Shopify's headers (case-insensitive; HTTP/2 lowercases them)
and raises `HeaderInvalid(header, message)` naming the first one that is missing or unusable:
`X-Shopify-Topic`, `X-Shopify-Shop-Domain` (exactly `<name>.myshopify.com`) and
`X-Shopify-Webhook-Id` are required; `X-Shopify-Event-Id`, `X-Shopify-Triggered-At` and
`X-Shopify-API-Version` are kept when present.

`webhook_receive(headers=, body=)` stores the delivery with one
`INSERT ... ON CONFLICT DO NOTHING` on the webhook id (the shop's id looked up inside it; on
PostgreSQL the deliveries that arrive together share one such statement and its COMMIT, see
`group_commit`) — a redelivery (Shopify delivers at least once) changes nothing — and, for a
pending event, nudges the shop's job once the row is committed. What is stored:
- a topic in `TOPICS` with a JSON object body: `pending`;
- a body that is not a JSON object (or holds text PostgreSQL cannot store): `failed`, the
  reason in `last_error`, no payload;
- a topic the app does not handle: `ignored`, metadata only (we keep no data we do not use),
  logged once at info. Stored rather than dropped so support can see what Shopify sent (a
  subscription made by hand, a topic added to the toml before its handler).
No Shopify or Klaviyo call: the request stays well under Shopify's 5 s.

Nothing else in the app writes webhook rows at this rate, so this one insert is hand-written SQL
(`_insert_sql`) over the model's own table and column names; tests/webhooks check it against the
model (every concrete column is written).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.utils import timezone

from notifyme.shops.models import Shop, normalize_shop_domain
from notifyme.webhooks import lanes
from notifyme.webhooks.group_commit import GroupWriter
from notifyme.webhooks.models import WebhookEvent
from notifyme.webhooks.topics import TOPICS

logger = logging.getLogger(__name__)

TOPIC_RE = re.compile(r"[a-z0-9_]+(?:/[a-z0-9_]+)+")
TOKEN_RE = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces
# NUL and lone surrogates: valid JSON escapes that a PostgreSQL jsonb column refuses.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_FRACTION = re.compile(r"(\.\d{6})\d+")


class HeaderInvalid(Exception):
    def __init__(self, header: str, message: str) -> None:
        super().__init__(message)
        self.header = header
        self.message = message


@dataclass(frozen=True)
class DeliveryHeaders:
    topic: str
    shop_domain: str
    webhook_id: str
    event_id: str
    triggered_at: datetime | None
    api_version: str


def _token(headers: Mapping[str, str], name: str, *, max_length: int,
           required: bool) -> str:
    value = (headers.get(name) or "").strip()
    if not value:
        if required:
            raise HeaderInvalid(name, f"The {name} header is required.")
        return ""
    if len(value) > max_length or not TOKEN_RE.fullmatch(value):
        raise HeaderInvalid(name, f"The {name} header is not a valid value "
                                  f"(at most {max_length} printable characters).")
    return value


def _triggered_at(raw: str) -> datetime | None:
    """Shopify's timestamp (nanoseconds, `Z`); None when it does not parse (it is advisory)."""
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", raw))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def delivery_headers(headers: Mapping[str, str]) -> DeliveryHeaders:
    """Shopify's delivery headers, checked (see module docstring)."""
    topic = _token(headers, "X-Shopify-Topic", max_length=128, required=True)
    if not TOPIC_RE.fullmatch(topic):
        raise HeaderInvalid("X-Shopify-Topic", "The X-Shopify-Topic header is not a webhook "
                                               "topic like products/update.")
    raw_domain = _token(headers, "X-Shopify-Shop-Domain", max_length=255, required=True)
    try:
        domain = normalize_shop_domain(raw_domain)
    except ValidationError:
        raise HeaderInvalid("X-Shopify-Shop-Domain", "The X-Shopify-Shop-Domain header must "
                                                     "be a <shop>.myshopify.com domain.") from None
    return DeliveryHeaders(
        topic=topic,
        shop_domain=domain,
        webhook_id=_token(headers, "X-Shopify-Webhook-Id", max_length=255, required=True),
        event_id=_token(headers, "X-Shopify-Event-Id", max_length=255, required=False),
        triggered_at=_triggered_at(
            _token(headers, "X-Shopify-Triggered-At", max_length=64, required=False)),
        api_version=_token(headers, "X-Shopify-API-Version", max_length=32, required=False),
    )


def _unstorable(value: Any) -> bool:
    """Does any key or string in the parsed JSON hold text PostgreSQL cannot store?"""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def payload_parse(body: bytes) -> tuple[dict[str, Any] | None, str]:
    """(the JSON object, "") or (None, why it is not usable). What passes is stored as the very
    text that was signed, so it must be JSON PostgreSQL's jsonb accepts too: no NaN/Infinity
    (Python's json takes them), no NUL or lone surrogates."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        return None, "the body is not UTF-8 text"
    except RecursionError:
        return None, "the body is JSON nested too deeply"
    except ValueError as error:
        return None, f"the body is not JSON ({error})"
    if not isinstance(data, dict):
        return None, f"the body is JSON but not an object (a {type(data).__name__})"
    if _unstorable(data):
        return None, "the body holds NUL characters or lone surrogates, which cannot be stored"
    return data, ""


def _columns(headers: DeliveryHeaders, body: bytes) -> dict[str, Any]:
    """The row's values; `payload` is the body's own text (checked by `payload_parse`), which
    the database parses into its JSON column: no second serialisation in Python."""
    now = timezone.now()
    columns: dict[str, Any] = {
        "shop_domain": headers.shop_domain, "topic": headers.topic,
        "webhook_id": headers.webhook_id, "event_id": headers.event_id,
        "triggered_at": headers.triggered_at, "api_version": headers.api_version,
        "payload": None, "body_sha256": hashlib.sha256(body).hexdigest(),
        "body_bytes": len(body), "received_at": now, "processed_at": None, "outcome": "",
        "state": WebhookEvent.State.PENDING.value, "attempts": 0, "available_at": now,
        "leased_until": None, "lease_token": "", "last_error": "",
    }
    if headers.topic not in TOPICS:
        columns.update(state=WebhookEvent.State.IGNORED.value, processed_at=now,
                       last_error="topic not handled by the app")
        logger.info("webhook topic %s not handled (shop %s, webhook %s): stored as ignored",
                    headers.topic, headers.shop_domain, headers.webhook_id)
        return columns
    _, error = payload_parse(body)
    if error:
        columns.update(state=WebhookEvent.State.FAILED.value, processed_at=now, last_error=error)
        logger.warning("webhook %s (%s, shop %s) failed on arrival: %s",
                       headers.webhook_id, headers.topic, headers.shop_domain, error)
    else:
        columns["payload"] = body.decode("utf-8")
    return columns


@cache
def _insert_sql(rows: int = 1) -> str:
    """One statement for `rows` rows: each shop's id looked up inside it (a scalar subquery;
    NULL for a shop we have no row for), a redelivery left as it is. Portable SQL (PostgreSQL
    and SQLite)."""
    table, shops = WebhookEvent._meta.db_table, Shop._meta.db_table
    names = ["shop_id", *_COLUMN_NAMES]
    values = [f"(SELECT id FROM {shops} WHERE domain = %s)",  # noqa: S608 (see below)
              *("%s" for _ in _COLUMN_NAMES)]
    row = f"({', '.join(values)})"
    # Only the models' own table and column names are interpolated; every value is a parameter.
    return (f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608
            f"VALUES {', '.join([row] * rows)} ON CONFLICT (webhook_id) DO NOTHING")


_COLUMN_NAMES = ("shop_domain", "topic", "webhook_id", "event_id", "triggered_at", "api_version",
                 "payload", "body_sha256", "body_bytes", "received_at", "processed_at",
                 "outcome", "state", "attempts", "available_at", "leased_until", "lease_token",
                 "last_error")


def _nudge_shops(domains: set[Hashable]) -> None:
    for domain in domains:
        if isinstance(domain, str):  # a pending delivery's shop (None: nothing to process)
            lanes.nudge_shop(shop_domain=domain)


_group_writers: dict[str, GroupWriter] = {}


def _group_writer(alias: str) -> GroupWriter:
    writer = _group_writers.get(alias)
    if writer is None:
        writer = _group_writers.setdefault(alias, GroupWriter(alias, _insert_sql, _nudge_shops))
    return writer


def group_writers_close() -> None:
    """Stop this process's writer threads (the test suite's teardown, see `GroupWriter.close`)."""
    for writer in list(_group_writers.values()):
        writer.close()


def webhook_receive(*, headers: DeliveryHeaders, body: bytes) -> str:
    """Store one verified delivery (see module docstring); returns the state it was stored in
    (or would have been: a duplicate is left as it is)."""
    columns = _columns(headers, body)
    connection = connections[router.db_for_write(WebhookEvent)]
    adapt = connection.ops.adapt_datetimefield_value
    params = [headers.shop_domain] + [
        adapt(value) if isinstance(value, datetime) else value
        for value in (columns[name] for name in _COLUMN_NAMES)]
    # Raw SQL on the hottest path (bench/webhook_burst.py): under a burst the ORM's statement
    # compilation and bulk_create's own transaction (a second round trip for its COMMIT) were
    # a third of the request's CPU. Outside a transaction the rows that arrive together share
    # one statement and its COMMIT (`group_commit`); inside a caller's, the row is part of it
    # and the nudge waits for that commit.
    pending = columns["state"] == WebhookEvent.State.PENDING
    domain = headers.shop_domain
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        _group_writer(connection.alias).insert(params, tag=domain if pending else None)
        return str(columns["state"])
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(), params)
    if pending:
        transaction.on_commit(lambda: lanes.nudge_shop(shop_domain=domain),
                              using=connection.alias)
    return str(columns["state"])
