"""Support's pause of one shop's Klaviyo sync (`KlaviyoConnection.paused`).

Contract:
- `connection_pause` stops every claim for the shop at the next job (the engine, the restock
  fan-out, erasures and every sweeper read `is_syncing` / `syncing_filter`); nothing is
  deleted, no row changes state, so work simply waits. A job already running finishes its
  current round.
- The pause is independent of `status`: a merchant's reconnect or re-test does not lift it
  (support paused for a reason); only `connection_unpause` does.
- `connection_unpause` fires `hooks.connection_resumed` on commit when the connection is
  CONNECTED, so the backlog drains at once (the same nudges a reconnect sends).
- Both are idempotent and return whether they changed anything.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from integrations.klaviyo import hooks
from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.scopes import ConnectionRefused
from notifyme.shops.models import Shop

logger = logging.getLogger(__name__)


def _locked(shop: Shop) -> KlaviyoConnection:
    connection = KlaviyoConnection.objects.select_for_update().filter(shop=shop).first()
    if connection is None:
        raise ConnectionRefused("not_connected", "This shop has never connected Klaviyo: "
                                "there is no sync to pause or resume.")
    return connection


def connection_pause(*, shop: Shop) -> bool:
    """Pause the shop's sync now (see module contract); False if it was already paused."""
    with transaction.atomic():
        connection = _locked(shop)
        if connection.paused:
            return False
        connection.paused, connection.paused_at = True, timezone.now()
        connection.save(update_fields=["paused", "paused_at", "updated_at"])
    logger.info("klaviyo sync paused by support shop=%s", shop.domain)
    return True


def connection_unpause(*, shop: Shop) -> bool:
    """Lift support's pause; the backlog resumes once this commits if the connection is
    CONNECTED. False if it was not paused."""
    with transaction.atomic():
        connection = _locked(shop)
        if not connection.paused:
            return False
        connection.paused, connection.paused_at = False, None
        connection.save(update_fields=["paused", "paused_at", "updated_at"])
        if connection.status == KlaviyoConnection.Status.CONNECTED:
            hooks.connection_resumed_on_commit(shop_id=shop.pk)
    logger.info("klaviyo sync resumed by support shop=%s", shop.domain)
    return True
