"""Reconciliation against the Shopify stand-in (a real HTTP server speaking the Admin GraphQL
API with cost-based throttling): a stock rise whose webhook never arrived is found and starts
the restock; a second run changes nothing; the sweeper schedules one job per shop per period."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_rq
import pytest

from integrations.shopify.tokens import token_exchange, tokens_store
from notifyme.catalog import reconcile, reconcile_jobs
from notifyme.catalog.models import InventoryLevel, Variant
from notifyme.catalog.services import product_apply
from notifyme.catalog.snapshots import ProductSnapshot, VariantSnapshot
from notifyme.delivery import registry
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop
from tests.factories import shop_make
from tests.fixtures.shopify_standin import StandinHandle
from tests.restocks.conftest import add_subscribers

pytestmark = pytest.mark.django_db
DOMAIN = "reconcile-shop.myshopify.com"


def _installed(standin: StandinHandle, domain: str = DOMAIN) -> Shop:
    """A shop in the stand-in and here, with a real token from the token exchange."""
    standin.new_shop(domain)
    shop = shop_make(domain)
    grant = token_exchange(shop_domain=domain, id_token=standin.admin.mint_id_token(domain))
    tokens_store(shop=shop, grant=grant)
    return shop


def _mirrored(standin: StandinHandle, shop: Shop, *, variants: int = 1,
              **product: Any) -> list[Variant]:
    """A product in the stand-in (no webhook), mirrored here as the catalog sync would."""
    made = standin.admin.add_product(shop.domain, "Field Jacket", notify=False, variants=[
        {"title": f"V{i}", "sku": f"FJ-{i}", "price": "120.00", "stock": 0}
        for i in range(variants)], **product)
    snapshot = ProductSnapshot(
        shopify_id=int(made["product_id"]), title="Field Jacket", updated_at=None,
        variants=tuple(VariantSnapshot(shopify_id=int(v), inventory_item_id=int(i),
                                       price=Decimal("120.00"), quantity=0)
                       for v, i in zip(made["variant_ids"], made["inventory_item_ids"],
                                       strict=True)))
    product_apply(shop=shop, snapshot=snapshot)
    return list(Variant.objects.filter(shop=shop).order_by("shopify_id"))


def test_a_dropped_webhook_is_caught_by_reconciliation(shopify_standin: StandinHandle) -> None:
    shop = _installed(shopify_standin)
    waiting, other = _mirrored(shopify_standin, shop, variants=2)
    add_subscribers(shop, waiting, 3)
    # The stock rises in Shopify, and the webhook is lost.
    for variant in (waiting, other):
        shopify_standin.admin.set_variant_stock(DOMAIN, variant.shopify_id, 6, notify=False)
    done = reconcile.reconcile_shop(shop=shop)
    assert done.skipped == "" and (done.variants, done.found) == (1, 1)  # only the awaited one
    assert done.restocks == 1 and Restock.objects.get(variant=waiting).total == 3
    waiting.refresh_from_db()
    other.refresh_from_db()
    assert waiting.available_quantity == 6 and other.available_quantity == 0
    assert InventoryLevel.objects.get(variant=waiting).available == 6
    again = reconcile.reconcile_shop(shop=shop)
    assert again.updates == [] and Restock.objects.count() == 1


def test_reconciliation_gates_on_publication_and_shops(shopify_standin: StandinHandle) -> None:
    shop = _installed(shopify_standin)
    (variant,) = _mirrored(shopify_standin, shop)
    add_subscribers(shop, variant, 2)
    Shop.objects.filter(pk=shop.pk).update(auth_state=Shop.AuthState.NEEDS_REAUTH)
    skipped = reconcile.reconcile_shop(shop=shop)
    assert skipped.skipped and skipped.variants == 0
    Shop.objects.filter(pk=shop.pk).update(auth_state=Shop.AuthState.OK)
    # Unpublished here (the mirror's word): the stock is mirrored, no restock starts.
    variant.product.published_online = False
    variant.product.save(update_fields=["published_online"])
    shopify_standin.admin.set_variant_stock(DOMAIN, variant.shopify_id, 4, notify=False)
    done = reconcile.reconcile_shop(shop=shop)
    assert len(done.updates) == 1 and done.restocks == 0 and not Restock.objects.exists()


def test_the_sweeper_enqueues_one_job_per_shop_per_period(shopify_standin: StandinHandle
                                                          ) -> None:
    handler = registry.get("catalog_reconcile")
    assert "notifyme.catalog.reconcile_jobs" in handler.warm_up
    shop = _installed(shopify_standin)
    (variant,) = _mirrored(shopify_standin, shop)
    add_subscribers(shop, variant, 1)
    shop_make("no-token.myshopify.com", tokens=False)  # installed, but no token: never reconciled
    assert handler.sweep() == {"enqueued": 1}
    assert handler.sweep() == {"enqueued": 0}  # within the period
    queue = django_rq.get_queue("bulk")
    jobs = [queue.fetch_job(job_id) for job_id in queue.job_ids]
    ours = [job for job in jobs if job is not None and job.func_name == reconcile.JOB]
    assert [job.args for job in ours] == [(shop.pk,)]
    shopify_standin.admin.set_variant_stock(DOMAIN, variant.shopify_id, 2, notify=False)
    summary = reconcile_jobs.run_reconcile(shop.pk)
    assert summary["restocks"] == 1 and summary["stock_changes"] == 1
