"""A catalog above the bulk threshold through the stand-in: `auto` picks a bulk operation and
every product, variant and level lands once. The threshold is lowered for the test so it stays
small (2,100 variants took 160 s on the shared CI machine: the mirror writes dominate); the
50,000-variant run is bench/catalog_sync.py."""

from __future__ import annotations

from typing import Any

import pytest

from notifyme.catalog import sync_run
from notifyme.catalog.models import InventoryLevel, Product, Variant
from notifyme.catalog.sync import catalog_sync_start
from notifyme.catalog.sync_models import CatalogSync
from notifyme.catalog.sync_run import catalog_sync_run
from notifyme.shops.install import shop_install_from_id_token
from tests.fixtures.shopify_standin import StandinHandle

pytestmark = pytest.mark.django_db
SHOP = "big-store.myshopify.com"
PRODUCTS, VARIANTS_PER = 80, 4  # 320 variants, above the lowered threshold
THRESHOLD = 300


def test_a_large_catalog_goes_through_a_bulk_operation(shopify_standin: StandinHandle,
                                                       monkeypatch: Any) -> None:
    monkeypatch.setattr(sync_run, "BULK_THRESHOLD_VARIANTS", THRESHOLD)
    assert PRODUCTS * VARIANTS_PER > THRESHOLD
    shopify_standin.admin.create_shop(SHOP)
    shopify_standin.admin.bulk_generate(SHOP, products=PRODUCTS, variants_per=VARIANTS_PER,
                                        stock=2)
    shop = shop_install_from_id_token(id_token=shopify_standin.admin.mint_id_token(SHOP),
                                      shop_domain=SHOP)
    CatalogSync.objects.filter(shop=shop).delete()  # the queued initial one; run it here
    sync = catalog_sync_run(sync_id=catalog_sync_start(shop=shop, enqueue=False).pk)
    assert sync is not None
    assert (sync.state, sync.mode, sync.error) == (CatalogSync.State.SUCCEEDED, "bulk", "")
    total = PRODUCTS * VARIANTS_PER
    assert (sync.total_variants, sync.done_variants, sync.done_levels) == (total, total, total)
    assert Product.objects.filter(shop=shop).count() == PRODUCTS
    assert Variant.objects.filter(shop=shop, available_quantity=2).count() == total
    assert InventoryLevel.objects.filter(shop=shop).count() == total
    assert sync.cost_points > 0
