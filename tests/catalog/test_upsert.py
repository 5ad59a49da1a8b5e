"""The catalog mirror's create/refresh path: idempotent by (shop, Shopify id), and an existing
variant's stock changes only through `variant_update_stock` (restock detection runs)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from notifyme.catalog.models import Product, Variant
from notifyme.catalog.services import product_upsert, variant_upsert
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop
from tests.restocks.conftest import add_subscribers

pytestmark = pytest.mark.django_db


def _upsert(shop: Shop, **fields: object) -> tuple[Product, Variant, bool]:
    product, _ = product_upsert(shop=shop, shopify_id=9001, title="Linen Shirt",
                                handle="linen-shirt")
    upserted = variant_upsert(product=product, shopify_id=4001, title="Large", sku="SKU-1",
                              price=Decimal("49.00"), **fields)  # type: ignore[arg-type]
    return product, upserted.variant, upserted.created


def test_upserting_twice_changes_nothing(shop: Shop) -> None:
    _, variant, created = _upsert(shop, quantity=3)
    assert created and variant.available_quantity == 3 and variant.accepts_alerts is False
    before = Variant.objects.values().get(pk=variant.pk)
    _, again, created = _upsert(shop, quantity=3)
    assert not created and again.pk == variant.pk
    assert Variant.objects.values().get(pk=variant.pk) == before  # not even updated_at
    assert Product.objects.count() == 1


def test_refresh_writes_changed_fields(shop: Shop) -> None:
    _upsert(shop)
    product, _ = product_upsert(shop=shop, shopify_id=9001, title="Linen Shirt II",
                                handle="linen-shirt-2", image_url="https://cdn.example.com/a.jpg")
    variant = variant_upsert(product=product, shopify_id=4001, title="XL", sku="SKU-2",
                             price=Decimal("50.00")).variant
    variant.refresh_from_db()
    assert (variant.title, variant.sku, variant.price) == ("XL", "SKU-2", Decimal("50.00"))
    assert variant.product.title == "Linen Shirt II" and variant.product.handle == "linen-shirt-2"


def test_a_stock_change_on_refresh_runs_restock_detection(shop: Shop) -> None:
    _, variant, _ = _upsert(shop, quantity=0)
    add_subscribers(shop, variant, 3)
    product = variant.product
    upserted = variant_upsert(product=product, shopify_id=4001, title="Large", sku="SKU-1",
                              price=Decimal("49.00"), quantity=12)
    assert upserted.stock is not None and upserted.stock.previous_quantity == 0
    restock = Restock.objects.get(variant=variant)
    assert restock.total == 3 and restock.quantity == 12
    variant.refresh_from_db()
    assert variant.available_quantity == 12


def test_keep_stock_leaves_an_existing_variants_stock(shop: Shop) -> None:
    _, variant, _ = _upsert(shop, quantity=5)
    kept = variant_upsert(product=variant.product, shopify_id=4001, title="Large", sku="SKU-1",
                          price=Decimal("49.00"), quantity=0, inventory_tracked=False,
                          keep_stock=True)
    assert kept.stock is None
    variant.refresh_from_db()
    assert variant.available_quantity == 5 and variant.inventory_tracked
