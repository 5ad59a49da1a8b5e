"""The catalog sync through the Shopify stand-in: paging and bulk write the same mirror,
progress is kept, a crashed run resumes without duplicates, failures end on the row."""

from __future__ import annotations

from typing import Any

import pytest

from notifyme.catalog import sync_run
from notifyme.catalog.models import InventoryLevel, Product, Variant
from notifyme.catalog.sync import SyncAlreadyRunning, catalog_sync_start, sync_sweep
from notifyme.catalog.sync_models import CatalogSync
from notifyme.catalog.sync_run import catalog_sync_run
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop
from tests.catalog_sync.conftest import SHOP, install_sync, mirror, mirror_wipe
from tests.fixtures.shopify_standin import StandinHandle
from tests.restocks.conftest import add_subscribers

pytestmark = pytest.mark.django_db


def _run(sync: CatalogSync, **options: Any) -> CatalogSync:
    done = catalog_sync_run(sync_id=sync.pk, **options)
    assert done is not None
    return done


def test_the_initial_sync_pages_a_small_catalog_into_the_mirror(installed: Shop) -> None:
    sync = _run(install_sync(installed))
    assert (sync.state, sync.mode, sync.error) == (CatalogSync.State.SUCCEEDED, "paging", "")
    assert (sync.total_products, sync.total_variants) == (5, 31)
    assert (sync.done_products, sync.done_variants, sync.percent) == (5, 31, 100)
    assert sync.cost_points > 0 and sync.finished_at and sync.lease_token == ""
    shirt = Product.objects.get(shop=installed, title="Linen Shirt")
    assert (shirt.status, shirt.published_online, shirt.handle) == ("active", True,
                                                                    "linen-shirt")
    assert Product.objects.get(shop=installed, title="Hidden scarf").published_online is False
    assert Product.objects.get(shop=installed, title="Draft hat").status == "draft"
    variants = {v.sku: v for v in Variant.objects.filter(shop=installed)}
    # Sellable = the locations that fulfil online orders (the back office does not count).
    assert variants["LS-S"].available_quantity == 0 and variants["LS-M"].available_quantity == 3
    assert variants["LS-L"].inventory_tracked is False
    assert variants["GC"].inventory_policy == "continue"
    assert len([v for v in variants if v.startswith("SO-")]) == 25
    assert InventoryLevel.objects.filter(variant=variants["LS-S"]).count() == 2


def test_paging_and_bulk_write_the_same_mirror(installed: Shop) -> None:
    _run(install_sync(installed))
    paged = mirror(installed)
    mirror_wipe(installed)
    bulk = _run(catalog_sync_start(shop=installed, mode="bulk", enqueue=False))
    assert (bulk.state, bulk.mode, bulk.error) == (CatalogSync.State.SUCCEEDED, "bulk", "")
    assert (bulk.done_products, bulk.done_variants, bulk.done_levels) == (5, 31, 31)
    assert mirror(installed) == paged
    assert paged["levels"] and paged["variants"]


def test_auto_picks_bulk_above_the_threshold(installed: Shop, monkeypatch: Any) -> None:
    monkeypatch.setattr(sync_run, "BULK_THRESHOLD_VARIANTS", 30)
    assert _run(install_sync(installed)).mode == "bulk"


def test_a_rerun_changes_nothing_and_a_crashed_run_resumes(installed: Shop,
                                                           monkeypatch: Any) -> None:
    monkeypatch.setattr(sync_run, "PAGE_PRODUCTS", 2)
    first = _run(install_sync(installed))
    before = mirror(installed)
    again = _run(catalog_sync_start(shop=installed, mode="paging", enqueue=False))
    assert again.state == CatalogSync.State.SUCCEEDED and mirror(installed) == before

    mirror_wipe(installed)
    crash = catalog_sync_start(shop=installed, mode="paging", enqueue=False)
    writes = 0

    def die_after_the_first_page(sync: CatalogSync) -> None:
        nonlocal writes
        writes += 1
        if sync.done_products:
            raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        catalog_sync_run(sync_id=crash.pk, on_progress=die_after_the_first_page)
    crash.refresh_from_db()
    assert crash.state == CatalogSync.State.RUNNING and 0 < crash.done_products < 5
    assert crash.cursor  # the resume point
    assert catalog_sync_run(sync_id=crash.pk) is None  # its lease is still live
    resumed = _run(crash, stale_seconds=0)
    assert resumed.state == CatalogSync.State.SUCCEEDED and resumed.done_products == 5
    assert resumed.attempts == 2 and mirror(installed) == before
    assert first.pk != resumed.pk


def test_one_sync_per_shop_and_the_sweeper_resumes_a_stranded_one(installed: Shop) -> None:
    queued = install_sync(installed)
    with pytest.raises(SyncAlreadyRunning) as running:
        catalog_sync_start(shop=installed)
    assert running.value.sync == queued
    CatalogSync.objects.filter(pk=queued.pk).update(
        updated_at=queued.created_at.replace(year=2020))
    assert sync_sweep() == 1


def test_shopify_refusing_or_down_ends_on_the_row(
        installed: Shop, shopify_standin: StandinHandle) -> None:
    shopify_standin.admin.set_switches(down=True)
    sync = _run(install_sync(installed))
    assert sync.state == CatalogSync.State.RUNNING and sync.lease_token == ""  # handed back
    assert "not answering" in sync.error
    shopify_standin.admin.set_switches(down=False)
    shopify_standin.admin.expire_tokens(installed.domain, access=True, refresh=True)
    Shop.objects.filter(pk=installed.pk).update(
        access_token_expires_at=sync.created_at.replace(year=2020))
    failed = _run(sync, stale_seconds=0)
    assert failed.state == CatalogSync.State.FAILED
    assert "re-authorize" in failed.error


@pytest.mark.parametrize("mode", ["paging", "bulk"])
def test_a_re_sync_restocks_a_variant_that_came_back_while_no_webhook_arrived(
        installed: Shop, shopify_standin: StandinHandle, mode: str) -> None:
    """The batched apply creates new variants in bulk (no stock hook: nobody waits on them),
    but a mirrored variant's rise from 0 in a re-sync goes through restock detection."""
    _run(install_sync(installed))
    small = Variant.objects.get(shop=installed, sku="LS-S")
    assert small.available_quantity == 0 and not Restock.objects.exists()
    add_subscribers(installed, small, 3)
    shopify_standin.admin.set_variant_stock(SHOP, "LS-S", 6, notify=False)
    _run(catalog_sync_start(shop=installed, mode=mode, enqueue=False))
    small.refresh_from_db()
    assert small.available_quantity == 6
    restock = Restock.objects.get()
    assert restock.variant_id == small.pk and restock.total == 3
