"""Writes to the outbox. Callers run inside their own transaction; the nudge waits for commit."""

from __future__ import annotations

import logging

from django.db import transaction

from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.sync import lanes
from notifyme.sync.models import OutboxItem

logger = logging.getLogger(__name__)


def outbox_enqueue(*, shop: Shop, subscription: Subscription, kind: str) -> OutboxItem:
    """Record work for Klaviyo and nudge a worker once the surrounding transaction commits."""
    item = OutboxItem.objects.create(shop=shop, subscription=subscription, kind=kind)
    transaction.on_commit(lambda: sync_nudge(shop_id=shop.pk))
    return item


def sync_nudge(*, shop_id: int) -> bool:
    """Ask a worker to look at this shop's outbox. Best effort: the sweeper covers failures."""
    try:
        lanes.enqueue_shop(shop_id=shop_id)
    except Exception:  # Redis down or misconfigured: the row is safe, the sweeper retries
        logger.warning("could not nudge sync for shop %s; the sweeper will pick it up", shop_id)
        return False
    return True
