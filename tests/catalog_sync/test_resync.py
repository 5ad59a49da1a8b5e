"""A full re-sync of a catalog the mirror already holds, through the Shopify stand-in: nothing
changed writes nothing to the mirror; a changed product, a changed stock level and a product
deleted without a webhook are applied; a payload older than the mirror is ignored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifyme.catalog import sync_run
from notifyme.catalog.mirror import product_apply
from notifyme.catalog.models import Product, Variant
from notifyme.catalog.snapshots import ProductSnapshot
from notifyme.catalog.sync import catalog_sync_start
from notifyme.catalog.sync_models import CatalogSync, CatalogSyncSeen
from notifyme.catalog.sync_run import catalog_sync_run
from notifyme.shops.models import Shop
from tests.catalog_sync.conftest import SHOP, install_sync, mirror
from tests.fixtures.shopify_standin import StandinHandle

pytestmark = pytest.mark.django_db

MODES = ["paging", "bulk"]


def _run(sync: CatalogSync, **options: Any) -> CatalogSync:
    done = catalog_sync_run(sync_id=sync.pk, **options)
    assert done is not None and done.state == CatalogSync.State.SUCCEEDED, done
    return done


def _resync(shop: Shop, mode: str) -> tuple[CatalogSync, list[str]]:
    """Run a full re-sync; returns it and every write it sent, but its own progress row's."""
    with CaptureQueriesContext(connection) as queries:
        done = _run(catalog_sync_start(shop=shop, mode=mode, enqueue=False))
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}
              and "catalog_catalogsync" not in q["sql"]]
    return done, writes


def _stamps(shop: Shop) -> list[Any]:
    return sorted([*Product.objects.filter(shop=shop).values_list("pk", "updated_at"),
                   *Variant.objects.filter(shop=shop).values_list("pk", "updated_at")])


@pytest.mark.parametrize("mode", MODES)
def test_a_re_sync_with_nothing_changed_writes_nothing(installed: Shop, mode: str) -> None:
    _run(install_sync(installed))
    before, stamps = mirror(installed), _stamps(installed)
    done, writes = _resync(installed, mode)
    assert writes == []
    assert (done.done_products, done.done_variants, done.percent) == (5, 31, 100)
    assert mirror(installed) == before and _stamps(installed) == stamps


@pytest.mark.parametrize("mode", MODES)
def test_a_re_sync_applies_what_changed_and_removes_what_vanished(
        installed: Shop, shopify_standin: StandinHandle, mode: str) -> None:
    _run(install_sync(installed))
    shirt = Product.objects.get(shop=installed, title="Linen Shirt")
    hat = Product.objects.get(shop=installed, title="Draft hat")
    untouched = Product.objects.get(shop=installed, title="Socks")
    admin = shopify_standin.admin
    # Shopify changed while no webhook reached the app.
    admin.update_product(SHOP, shirt.shopify_id, title="Linen Shirt II", notify=False)
    admin.delete_product(SHOP, hat.shopify_id, notify=False)
    admin.set_variant_stock(SHOP, "LS-M", 9, notify=False)
    _done, writes = _resync(installed, mode)
    shirt.refresh_from_db()
    hat.refresh_from_db()
    assert shirt.title == "Linen Shirt II" and shirt.removed_at is None
    assert hat.removed_at is not None
    assert set(Variant.objects.filter(product=hat).values_list("removed_at", flat=True)) == {
        hat.removed_at}
    assert Variant.objects.get(shop=installed, sku="LS-M").available_quantity == 9
    # Only the changed rows were written: the socks' product and its 25 variants were not.
    assert Product.objects.get(pk=untouched.pk).updated_at == untouched.updated_at
    assert not any(f'"id" = {untouched.pk}' in sql for sql in writes)
    assert writes


@pytest.mark.parametrize("mode", MODES)
def test_a_re_sync_ignores_a_payload_older_than_the_mirror(
        installed: Shop, shopify_standin: StandinHandle, mode: str) -> None:
    """A webhook newer than what the re-sync reads was applied first (payloads arrive out of
    order): the sync's older copy of the product changes nothing."""
    _run(install_sync(installed))
    shirt = Product.objects.get(shop=installed, title="Linen Shirt")
    shopify_standin.admin.update_product(SHOP, shirt.shopify_id, title="Read by the sync",
                                         notify=False)
    assert shirt.shopify_updated_at is not None
    newer = ProductSnapshot(shopify_id=shirt.shopify_id, title="From a newer webhook",
                            updated_at=shirt.shopify_updated_at + timedelta(days=1),
                            handle=shirt.handle, complete_variants=False)
    assert product_apply(shop=installed, snapshot=newer).applied
    before = mirror(installed)
    _done, writes = _resync(installed, mode)
    shirt.refresh_from_db()
    assert shirt.title == "From a newer webhook"
    assert shirt.shopify_updated_at == newer.updated_at
    assert mirror(installed) == before and writes == []


def test_a_product_a_webhook_mirrored_during_the_re_sync_is_not_taken_for_vanished(
        installed: Shop) -> None:
    """The re-sync's read predates the product (created in Shopify after the export): it is
    missing from what the sync saw, but was written after the sync started, so it stays."""
    _run(install_sync(installed))
    late = ProductSnapshot(shopify_id=987654321, title="Created during the sync",
                           updated_at=None)

    def a_webhook_arrives(sync: CatalogSync) -> None:
        if sync.done_products and not Product.objects.filter(shopify_id=late.shopify_id):
            assert product_apply(shop=installed, snapshot=late).applied

    _run(catalog_sync_start(shop=installed, mode="paging", enqueue=False),
         on_progress=a_webhook_arrives)
    assert Product.objects.get(shop=installed, shopify_id=late.shopify_id).removed_at is None
    assert not Product.objects.filter(shop=installed, removed_at__isnull=False).exists()


def test_a_paging_re_sync_resumed_mid_way_still_removes_what_vanished(
        installed: Shop, shopify_standin: StandinHandle, monkeypatch: Any) -> None:
    """The job that resumes did not read the first pages itself: the products the dead job
    read are kept with the sync, so only the product gone from Shopify is marked removed."""
    monkeypatch.setattr(sync_run, "PAGE_PRODUCTS", 2)
    _run(install_sync(installed))
    hat = Product.objects.get(shop=installed, title="Draft hat")
    shopify_standin.admin.delete_product(SHOP, hat.shopify_id, notify=False)
    crash = catalog_sync_start(shop=installed, mode="paging", enqueue=False)

    def die_after_the_first_page(sync: CatalogSync) -> None:
        if sync.done_products:
            raise SystemExit("worker killed")

    with pytest.raises(SystemExit):
        catalog_sync_run(sync_id=crash.pk, on_progress=die_after_the_first_page)
    crash.refresh_from_db()
    assert crash.cursor and 0 < crash.done_products < 4
    _run(crash, stale_seconds=0)
    removed = set(Product.objects.filter(shop=installed, removed_at__isnull=False)
                  .values_list("title", flat=True))
    assert removed == {"Draft hat"}
    assert not CatalogSyncSeen.objects.filter(sync=crash).exists()  # dropped once finished
