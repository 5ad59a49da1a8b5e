"""What a topic handler gets and what it may raise (the contract of `topics.TOPICS` rows).

- `WebhookContext(shop, shop_domain, topic, payload, event)`: `shop` is None for a shop we have
  no row for; `payload` is the parsed JSON object; `event` the stored `WebhookEvent` (webhook
  id, event id, triggered_at, api_version).
- `TopicHandler = Callable[[WebhookContext], str]`: returns a one-line outcome for support
  ("product 123 applied", "stale: older than stored"). Must be idempotent: Shopify delivers at
  least once, and a lease is not a lock.
- `EventIgnored(reason)`: nothing to do (unknown shop, not applicable); the event ends `ignored`.
- `RetryLater(reason)`: waiting can fix it (an outage); the event is retried with backoff.
  `integrations.shopify` outages (`ShopifyUnavailable`) are treated the same by the job.
- Anything else: the event fails alone with the reason; the job goes on with the others.

Handlers run inside one transaction with the event's outcome, so what a handler wrote and the
event's final state commit together (a handler that raises leaves nothing half-written).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from notifyme.shops.models import Shop


@dataclass(frozen=True)
class WebhookContext:
    shop: Shop | None
    shop_domain: str
    topic: str
    payload: dict[str, Any]
    event: Any  # notifyme.webhooks.models.WebhookEvent


TopicHandler = Callable[[WebhookContext], str]


class EventIgnored(Exception):
    """The event does not apply here; it ends `ignored` with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryLater(Exception):
    """Waiting can fix it: the event is retried with backoff (bounded by MAX_ATTEMPTS)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
