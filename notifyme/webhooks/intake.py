"""Storing a verified delivery: the headers checked, the body parsed, one row, one nudge.

`delivery_headers(headers)` reads Shopify's headers (case-insensitive; HTTP/2 lowercases them)
and raises `HeaderInvalid(header, message)` naming the first one that is missing or unusable:
`X-Shopify-Topic`, `X-Shopify-Shop-Domain` (exactly `<name>.myshopify.com`) and
`X-Shopify-Webhook-Id` are required; `X-Shopify-Event-Id`, `X-Shopify-Triggered-At` and
`X-Shopify-API-Version` are kept when present.

`webhook_receive(headers=, body=)` stores the delivery with one
`INSERT ... ON CONFLICT DO NOTHING` on the webhook id (the shop's id looked up inside it, the
statement committed on its own) — a redelivery (Shopify delivers at least
once) changes nothing — and, for a pending event, nudges the shop's job once the row is
committed. What is stored:
- a topic in `TOPICS` with a JSON object body: `pending`;
- a body that is not a JSON object (or holds text PostgreSQL cannot store): `failed`, the
  reason in `last_error`, no payload;
- a topic the app does not handle: `ignored`, metadata only (we keep no data we do not use),
  logged once at info. Stored rather than dropped so support can see what Shopify sent (a
  subscription made by hand, a topic added to the toml before its handler).
No Shopify or Klaviyo call: the request stays well under Shopify's 5 s.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone

from notifyme.shops.models import Shop, normalize_shop_domain
from notifyme.webhooks import lanes
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


def payload_parse(body: bytes) -> tuple[dict[str, Any] | None, str]:
    """(the JSON object, "") or (None, why it is not usable)."""
    try:
        data = json.loads(body.decode("utf-8"))
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


def webhook_receive(*, headers: DeliveryHeaders, body: bytes) -> str:
    """Store one verified delivery (see module docstring); returns the state it was stored in
    (or would have been: a duplicate is left as it is)."""
    now = timezone.now()
    event = WebhookEvent(
        # Looked up inside the INSERT (a scalar subquery; NULL for a shop we have no row for):
        # one statement instead of a SELECT before it.
        shop_id=Subquery(Shop.objects.filter(domain=headers.shop_domain).values("id")[:1]),
        shop_domain=headers.shop_domain, topic=headers.topic, webhook_id=headers.webhook_id,
        event_id=headers.event_id, triggered_at=headers.triggered_at,
        api_version=headers.api_version, body_sha256=hashlib.sha256(body).hexdigest(),
        body_bytes=len(body), received_at=now, available_at=now,
    )
    if headers.topic not in TOPICS:
        event.state, event.last_error = WebhookEvent.State.IGNORED, "topic not handled by the app"
        event.processed_at = now
        logger.info("webhook topic %s not handled (shop %s, webhook %s): stored as ignored",
                    headers.topic, headers.shop_domain, headers.webhook_id)
    else:
        event.payload, error = payload_parse(body)
        if error:
            event.state, event.last_error, event.processed_at = WebhookEvent.State.FAILED, \
                error, now
            logger.warning("webhook %s (%s, shop %s) failed on arrival: %s",
                           headers.webhook_id, headers.topic, headers.shop_domain, error)
    # One statement in its own short transaction (bulk_create's): under a burst every extra
    # round trip to PostgreSQL is a context switch on a busy machine (bench/webhook_burst.py).
    # Inside a caller's transaction the nudge still waits for its commit.
    WebhookEvent.objects.bulk_create([event], ignore_conflicts=True)
    if event.state == WebhookEvent.State.PENDING:
        domain = headers.shop_domain
        transaction.on_commit(lambda: lanes.nudge_shop(shop_domain=domain))
    return str(event.state)
