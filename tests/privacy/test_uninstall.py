"""`app/uninstalled` → the shop's work stops (no Klaviyo call: held sync rows, cancelled
restocks with a reason, held erasures), its tokens are forgotten, its subscribers stay; a
reinstall starts clean and the held work resumes while the Klaviyo connection still works."""

from __future__ import annotations

from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone

from integrations.klaviyo.services import connection_disconnect
from notifyme.catalog.services import variant_update_stock
from notifyme.core.redis import get_redis
from notifyme.privacy.models import ComplianceRequest
from notifyme.restocks import sweep as restock_sweep
from notifyme.restocks.fanout import fanout_send_chunk
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.restocks.services import UNINSTALLED_REASON, detection_of
from notifyme.shops.models import Shop
from notifyme.shops.services import shop_install
from notifyme.subscriptions.models import Subscription
from notifyme.sync import engine
from notifyme.sync import sweep as sync_sweep
from notifyme.sync.models import OutboxItem
from tests.factories import subscription_make
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import make_variant
from tests.privacy.conftest import SHOPPER_PAYLOAD, Store, deliver, run_erasures, shopper_everywhere
from tests.sync.conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)


def _with_tokens(shop: Shop) -> Shop:
    """The shop as an install leaves it: expiring tokens and the granted scopes."""
    later = timezone.now() + timedelta(hours=1)
    shop.set_access_token("shpat_live_access")
    shop.set_refresh_token("shprt_live_refresh")
    shop.access_token_expires_at = shop.refresh_token_expires_at = later
    shop.granted_scopes = "read_products,read_inventory"
    shop.save()
    return shop


def _uninstall(store: Store) -> str:
    return deliver("app/uninstalled", {"id": 1, "domain": store.shop.domain,
                                       "myshopify_domain": store.shop.domain},
                   shop_domain=store.shop.domain)


def _held_work(store: Store) -> Restock:
    """Signups not yet synced and a restock not yet sent."""
    for n in range(3):
        subscription_make(store.shop, store.scarf, email=f"late{n}@example.com")
    restock = detection_of(variant_update_stock(variant=store.scarf, quantity=5)).restock
    assert restock is not None and restock.total == 4
    return restock


def test_uninstall_stops_all_work_and_reinstall_resumes_it(
        klaviyo_sandbox: SandboxHandle) -> None:
    store = shopper_everywhere(klaviyo_sandbox)
    shop = _with_tokens(store.shop)
    restock = _held_work(store)
    calls_before = len(klaviyo_sandbox.admin.requests(store.account_id))
    installed_at = shop.installed_at

    assert _uninstall(store) == "shop marked uninstalled"

    shop.refresh_from_db()
    assert shop.state == Shop.State.UNINSTALLED and shop.uninstalled_at
    assert (shop.access_token_encrypted, shop.refresh_token_encrypted, shop.granted_scopes) == (
        "", "", "")
    assert shop.access_token_expires_at is None and shop.refresh_token_expires_at is None
    restock.refresh_from_db()
    assert restock.state == Restock.State.CANCELLED
    skipped = RestockDelivery.objects.filter(restock=restock, state="skipped")
    assert skipped.count() == 4 and {d.last_error for d in skipped} == {UNINSTALLED_REASON}
    # Nothing runs for an uninstalled shop, whoever asks.
    assert engine.run_shop(shop.pk, "sync") == {"skipped": "shop uninstalled"}
    assert shop.pk not in sync_sweep.due_shops()
    assert fanout_send_chunk(restock_id=restock.pk).claimed == 0
    # A restock detected while uninstalled (a late stock write) is held, not sent.
    hat = make_variant(shop, shopify_id=4003, product_id=9003, quantity=0)
    subscription_make(shop, hat, email="hat@example.com")
    late = detection_of(variant_update_stock(variant=hat, quantity=5)).restock
    assert late is not None
    assert fanout_send_chunk(restock_id=late.pk).notes == ["shop uninstalled"]
    assert restock_sweep.sweep_restocks()["nudged"] == 0
    deliver("customers/redact", {"customer": SHOPPER_PAYLOAD}, shop_domain=shop.domain)
    assert run_erasures() == ["held: held"]
    assert len(klaviyo_sandbox.admin.requests(store.account_id)) == calls_before
    # The waitlist is still there (only shop/redact erases it).
    assert Subscription.objects.filter(shop=shop, status="active").count() == 4
    assert OutboxItem.objects.filter(shop=shop, state="pending").count() == 4
    audit = ComplianceRequest.objects.get(topic="customers/redact")
    assert audit.klaviyo_outcome == "held" and "uninstalled" in audit.merchant_notice

    get_redis().flushdb()  # no job or nudge marker left from before: only the reinstall's
    again = shop_install(domain=shop.domain)
    assert again.state == Shop.State.INSTALLED and again.installed_at > installed_at
    assert again.access_token_encrypted == "" and again.get_access_token() == ""
    queued = django_rq.get_queue("sync").job_ids
    assert any(j.startswith(f"sync-sync-{shop.pk}-") for j in queued)  # held rows nudged
    assert any(j.startswith("privacy-sync-") for j in queued)  # the held erasure too
    drain(shop.pk, lane="sync")
    assert OutboxItem.objects.filter(shop=shop, state="pending").count() == 0
    assert run_erasures() == ["deletion_requested"]
    assert klaviyo_sandbox.admin.deletions(store.account_id)


def test_a_reinstall_with_a_disconnected_klaviyo_keeps_the_rows_held(
        klaviyo_sandbox: SandboxHandle) -> None:
    store = shopper_everywhere(klaviyo_sandbox)
    _held_work(store)
    _uninstall(store)
    connection_disconnect(shop=store.shop)
    get_redis().flushdb()
    shop_install(domain=store.shop.domain)
    assert not [j for j in django_rq.get_queue("sync").job_ids if j.startswith("sync-")]
    assert engine.run_shop(store.shop.pk, "sync") == {"skipped": "not syncing"}
    assert OutboxItem.objects.filter(shop=store.shop, state="pending").count() == 3


def test_a_redelivered_uninstall_changes_nothing(klaviyo_sandbox: SandboxHandle) -> None:
    store = shopper_everywhere(klaviyo_sandbox)
    _uninstall(store)
    stamp = Shop.objects.get(pk=store.shop.pk).uninstalled_at
    assert _uninstall(store) == "already uninstalled"
    assert Shop.objects.get(pk=store.shop.pk).uninstalled_at == stamp
