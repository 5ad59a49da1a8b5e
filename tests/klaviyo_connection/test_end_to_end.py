"""With the real sync engine: a key that loses a scope after connecting halts the shop at the
next sync ("needs attention", same sentence), nothing is lost, and reconnecting with a good key
resumes the backlog."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.scopes import ALL_REQUIRED
from integrations.klaviyo.selectors import connection_status
from integrations.klaviyo.services import connection_connect
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.sync import engine
from notifyme.sync.models import OutboxItem
from notifyme.sync.services import outbox_enqueue
from tests.fixtures.shopify import make_variant

pytestmark = pytest.mark.django_db


def subscribe(shop: Shop, variant: Any, email: str) -> Subscription:
    with transaction.atomic():
        subscription = Subscription.objects.create(shop=shop, variant=variant, email=email)
        outbox_enqueue(shop=shop, subscription=subscription,
                       kind=OutboxItem.Kind.PROFILE_SYNC)
    return subscription


def test_lost_scope_halts_then_reconnect_resumes_the_backlog(
    shop: Shop, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str,
    django_capture_on_commit_callbacks: Any, nudges: list[int],
) -> None:
    variant = make_variant(shop)
    connection_connect(shop=shop, private_key=full_key)
    first = subscribe(shop, variant, "first@example.com")
    engine.run_shop(shop.pk)
    first.refresh_from_db()
    assert first.sync_state == Subscription.SyncState.SYNCED

    klaviyo_sandbox.admin.set_key_scopes(
        full_key, [s for s in ALL_REQUIRED if s != "profiles:write"])
    waiting = subscribe(shop, variant, "waiting@example.com")
    engine.run_shop(shop.pk)
    connection = KlaviyoConnection.objects.get(shop=shop)
    assert connection.status == KlaviyoConnection.Status.NEEDS_ATTENTION
    status = connection_status(shop=shop)
    assert status["status"] == "needs_attention" and not status["syncing"]
    assert "profiles:write" in status["status_message"]
    assert "profiles:write" not in status["scopes_verified"]
    waiting.refresh_from_db()
    assert waiting.sync_state == Subscription.SyncState.PENDING  # kept, not failed
    assert OutboxItem.objects.filter(subscription=waiting, state="pending").exists()

    good = klaviyo_sandbox.admin.create_key(account["id"], "all")
    with django_capture_on_commit_callbacks(execute=True):
        connection_connect(shop=shop, private_key=good)
    assert nudges == [shop.pk]
    engine.run_shop(shop.pk)
    waiting.refresh_from_db()
    assert waiting.sync_state == Subscription.SyncState.SYNCED
    assert connection_status(shop=shop)["status"] == "connected"
    assert connection_status(shop=shop)["last_sync_at"] is not None
