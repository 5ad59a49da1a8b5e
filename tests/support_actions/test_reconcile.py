"""Re-run stock reconciliation for a shop now: a stock rise whose webhook was lost is found by
the job the staff action queues (run by a real worker against the Shopify stand-in), and the
action row says what it did."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client

from integrations.shopify.tokens import token_exchange, tokens_store
from notifyme.catalog.models import Variant
from notifyme.catalog.services import product_apply
from notifyme.catalog.snapshots import ProductSnapshot, VariantSnapshot
from notifyme.restocks.models import Restock
from notifyme.support.models import SupportAction
from tests.factories import shop_make, subscription_make
from tests.fixtures.shopify_standin import StandinHandle

from .conftest import post

DOMAIN = "reconcile-support.myshopify.com"
JSON = {"HTTP_ACCEPT": "application/json"}


def _awaited_variant(standin: StandinHandle) -> Variant:
    """A shop installed in the stand-in (real token exchange), one sold-out variant mirrored
    here, two shoppers waiting for it."""
    standin.new_shop(DOMAIN)
    shop = shop_make(DOMAIN)
    tokens_store(shop=shop, grant=token_exchange(
        shop_domain=DOMAIN, id_token=standin.admin.mint_id_token(DOMAIN)))
    made = standin.admin.add_product(DOMAIN, "Field Jacket", notify=False, variants=[
        {"title": "M", "sku": "FJ-M", "price": "120.00", "stock": 0}])
    product_apply(shop=shop, snapshot=ProductSnapshot(
        shopify_id=int(made["product_id"]), title="Field Jacket", updated_at=None,
        variants=(VariantSnapshot(shopify_id=int(made["variant_ids"][0]),
                                  inventory_item_id=int(made["inventory_item_ids"][0]),
                                  price=Decimal("120.00"), quantity=0),)))
    variant = Variant.objects.get(shop=shop)
    for email in ("a@example.com", "b@example.com"):
        subscription_make(shop, variant, email=email)
    return variant


def test_reconcile_now_finds_a_lost_restock(
    transactional_db: None, shopify_standin: StandinHandle, staff: Client, jobs: object,
) -> None:
    variant = _awaited_variant(shopify_standin)
    shopify_standin.admin.set_variant_stock(DOMAIN, variant.shopify_id, 6, notify=False)
    queued = post(staff, f"/support/shops/{DOMAIN}/reconcile", **JSON)
    assert queued.status_code == 202 and queued.json()["action"]["outcome"] == "queued"
    # One support reconcile per shop waits in the queue at a time.
    twice = post(staff, f"/support/shops/{DOMAIN}/reconcile", **JSON).json()["action"]
    assert twice["outcome"] == "nothing"
    assert callable(jobs) and jobs() >= 1
    action = SupportAction.objects.get(pk=queued.json()["action"]["id"])
    assert action.outcome == SupportAction.Outcome.DONE and action.finished_at is not None
    assert action.counts["variants"] == 1 and action.counts["restocks"] == 1
    assert "1 restock(s) started" in action.detail
    restock = Restock.objects.get(variant=variant)
    assert restock.total == 2
    variant.refresh_from_db()
    assert variant.available_quantity == 6
