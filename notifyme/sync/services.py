"""Writes to the outbox. Callers run inside their own transaction; the nudge waits for commit.

Subscriptions do not call in here: `outbox_for_subscription` is registered (in `apps.py`) on the
subscription lifecycle hook, which `notifyme.subscriptions.services` fires inside the
transaction of each subscription write, so the row and its outbox row commit together.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from integrations.klaviyo.models import KlaviyoConnection
from notifyme.shops.models import Shop
from notifyme.subscriptions.hooks import Lifecycle
from notifyme.subscriptions.models import Subscription
from notifyme.sync import lanes
from notifyme.sync.models import OutboxItem

logger = logging.getLogger(__name__)

#: The outbox work each subscription lifecycle event needs.
OUTBOX_KIND = {
    Lifecycle.CREATED: OutboxItem.Kind.PROFILE_SYNC,
    Lifecycle.CHANGED: OutboxItem.Kind.PROFILE_SYNC,
    Lifecycle.WITHDRAWN: OutboxItem.Kind.UNSUBSCRIBE,
    Lifecycle.ERASED: OutboxItem.Kind.REDACT,
}


def outbox_enqueue(*, shop: Shop, subscription: Subscription, kind: str) -> OutboxItem:
    """Record work for Klaviyo and nudge a worker once the surrounding transaction commits."""
    item = OutboxItem.objects.create(shop=shop, subscription=subscription, kind=kind)
    transaction.on_commit(lambda: sync_nudge(shop_id=shop.pk))
    return item


def outbox_for_subscription(*, subscription: Subscription, event: Lifecycle) -> OutboxItem:
    """The subscription lifecycle hook: the outbox row `event` needs, in the caller's
    transaction."""
    return outbox_enqueue(shop=subscription.shop, subscription=subscription,
                          kind=OUTBOX_KIND[event])


def outbox_retry_failed(*, item_ids: Iterable[int]) -> int:
    """FAILED → PENDING, due now with attempts reset (steps already done are kept); their
    subscriptions go back to "waiting to sync", and each shop is nudged on commit. Rows that
    are not FAILED are left alone; returns how many were queued again."""
    with transaction.atomic():
        rows = list(OutboxItem.objects.select_for_update()
                    .filter(pk__in=list(item_ids), state=OutboxItem.State.FAILED)
                    .values_list("pk", "shop_id", "subscription_id"))
        count = OutboxItem.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(
            state=OutboxItem.State.PENDING, attempts=0, last_error="",
            available_at=timezone.now(), leased_until=None, completed_at=None)
        Subscription.objects.filter(pk__in={sub_id for _, _, sub_id in rows}).update(
            sync_state=Subscription.SyncState.PENDING, sync_error="")
        for shop_id in sorted({shop_id for _, shop_id, _ in rows}):
            transaction.on_commit(functools.partial(sync_nudge, shop_id=shop_id))
    return count


def outbox_hold(*, shop: Shop) -> str | None:
    """The `shop_uninstalled` hook: the shop's unfinished outbox rows stay as they are (the
    engine and the sweeper skip an uninstalled shop, so none is sent); says how many wait."""
    held = OutboxItem.objects.filter(
        shop=shop, state__in=[OutboxItem.State.PENDING, OutboxItem.State.WAITING]).count()
    return f"{held} Klaviyo sync rows held" if held else None


def outbox_resume(*, shop: Shop) -> str | None:
    """The `shop_reinstalled` hook: held rows go again once the reinstall commits — if the
    shop's Klaviyo connection is still connected (a revoked key then halts the connection at
    the first call, with the merchant-facing sentence; a disconnected or halted connection
    keeps the rows until the merchant reconnects, as always)."""
    connection = KlaviyoConnection.objects.filter(shop=shop).first()
    if connection is None or not connection.is_syncing:
        return None
    transaction.on_commit(functools.partial(sync_nudge, shop_id=shop.pk))
    return "Klaviyo sync resumed"


def sync_nudge(*, shop_id: int) -> bool:
    """Ask a worker to look at this shop's outbox. Best effort: the sweeper covers failures.

    Also the Klaviyo integration's `connection_resumed` hook (registered in `apps.py`)."""
    try:
        lanes.enqueue_shop(shop_id=shop_id)
    except Exception:  # Redis down or misconfigured: the row is safe, the sweeper retries
        logger.warning("could not nudge sync for shop %s; the sweeper will pick it up", shop_id)
        return False
    return True
