"""With the real sync engine and fan-out: a key that loses a scope after connecting halts the
shop at the next sync ("needs attention", same sentence), nothing is lost, and reconnecting with
a good key resumes the backlog and the halted restock (through the `connection_resumed` hook the
sync and restocks apps register)."""

from __future__ import annotations

from typing import Any

import django_rq
import pytest

from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.scopes import ALL_REQUIRED
from integrations.klaviyo.selectors import connection_status
from integrations.klaviyo.services import connection_connect
from notifyme.catalog.services import variant_update_stock
from notifyme.restocks.fanout import fanout_send_chunk
from notifyme.restocks.models import Restock
from notifyme.restocks.services import detection_of
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_create
from notifyme.sync import engine
from notifyme.sync.models import OutboxItem
from tests.fixtures.shopify import make_variant

pytestmark = pytest.mark.django_db


def subscribe(shop: Shop, variant: Any, email: str) -> Subscription:
    subscription, created = subscription_create(shop=shop, variant=variant, email=email)
    assert created
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


def test_reconnect_resumes_pending_sync_and_the_halted_restock(
    shop: Shop, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str,
    django_capture_on_commit_callbacks: Any, nudges: list[int], restock_resumes: list[int],
) -> None:
    variant = make_variant(shop, quantity=0)
    connection_connect(shop=shop, private_key=full_key)
    waiting = [subscribe(shop, variant, f"w{i}@example.com") for i in range(3)]
    klaviyo_sandbox.admin.revoke_key(full_key)
    restock = detection_of(variant_update_stock(variant=variant, quantity=5)).restock
    assert restock is not None and restock.total == 3
    assert fanout_send_chunk(restock_id=restock.pk).halted
    assert KlaviyoConnection.objects.get(shop=shop).status == "needs_attention"
    django_rq.get_queue("bulk").empty()

    good = klaviyo_sandbox.admin.create_key(account["id"], "all")
    with django_capture_on_commit_callbacks(execute=True):
        connection_connect(shop=shop, private_key=good)
    assert nudges == [shop.pk] and restock_resumes == [shop.pk]
    queued = [job.func_name for job in django_rq.get_queue("bulk").jobs]
    assert "notifyme.restocks.jobs.run_fanout_chunk" in queued  # the fan-out was nudged
    engine.run_shop(shop.pk)
    assert fanout_send_chunk(restock_id=restock.pk).sent == 3
    restock.refresh_from_db()
    assert restock.state == Restock.State.COMPLETED
    for subscription in waiting:
        subscription.refresh_from_db()
        assert subscription.sync_state == Subscription.SyncState.SYNCED
