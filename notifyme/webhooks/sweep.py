"""The webhooks' part of the minute sweep: shops with due or stranded events, and retention.

Reads only PostgreSQL: events pending and due whose lease is free or expired (their nudge was
lost to a Redis flush, or their worker died) -> one coalesced job per shop (`verify=True`
replaces a marker whose job vanished). At most once an hour it also deletes old finished
events (`retention.prune`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from notifyme.delivery import leasing
from notifyme.webhooks import lanes, retention
from notifyme.webhooks.models import WebhookEvent

logger = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 3600.0
_last_prune: dict[str, float] = {}


def due_shops() -> list[str]:
    pending = WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING)
    return list(leasing.due(pending).order_by().values_list("shop_domain", flat=True)
                .distinct())


def sweep_webhooks() -> dict[str, Any]:
    """Nudge every shop with due events; prune hourly. Returns what was done."""
    nudged = 0
    for shop_domain in due_shops():
        try:
            nudged += int(lanes.enqueue_shop(shop_domain=shop_domain, verify=True))
        except Exception:
            logger.warning("sweeper could not nudge webhooks of %s (Redis down?)", shop_domain)
    result: dict[str, Any] = {"nudged": nudged}
    now = time.monotonic()
    if now - _last_prune.get("at", float("-inf")) >= PRUNE_EVERY_SECONDS:
        _last_prune["at"] = now
        result["pruned"] = retention.prune()
    if nudged:
        logger.info("webhooks sweep: %s shops nudged", nudged)
    return result
