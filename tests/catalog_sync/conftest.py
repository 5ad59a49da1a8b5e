"""Catalog sync fixtures: a shop installed through the stand-in with a small, varied catalog."""

from __future__ import annotations

from typing import Any

import pytest

from notifyme.catalog.models import InventoryLevel, Location, Product, Variant
from notifyme.catalog.sync_models import CatalogSync
from notifyme.shops.install import shop_install_from_id_token
from notifyme.shops.models import Shop
from tests.fixtures.shopify_standin import StandinHandle

SHOP = "linen-co.myshopify.com"


def catalog_make(standin: StandinHandle, shop: str) -> dict[str, Any]:
    """Two locations (one not fulfilling online orders), five products: multi-location
    stock, untracked, keep-selling, a draft, one unpublished, one with 25 variants (more than
    a products page nests)."""
    admin = standin.admin
    first = admin.create_shop(shop, name="Linen & Co", currency="EUR", country="FR")
    main = first["locations"][0]["id"]
    depot = admin.add_location(shop, "Back office", fulfills_online_orders=False)["id"]
    admin.add_product(shop, "Linen Shirt", handle="linen-shirt", notify=False, variants=[
        {"title": "S", "sku": "LS-S", "price": "49.00", "stock": {main: 0, depot: 5}},
        {"title": "M", "sku": "LS-M", "price": "49.00", "stock": {main: 3, depot: 1}},
        {"title": "L", "sku": "LS-L", "price": "52.50", "tracked": False}])
    admin.add_product(shop, "Gift card", notify=False, variants=[
        {"title": "Default", "sku": "GC", "inventory_policy": "CONTINUE", "stock": 0}])
    admin.add_product(shop, "Draft hat", status="DRAFT", notify=False,
                      variants=[{"title": "One", "stock": 2}])
    admin.add_product(shop, "Hidden scarf", published=False, notify=False,
                      variants=[{"title": "One", "stock": 1}])
    admin.add_product(shop, "Socks", notify=False, variants=[
        {"title": f"Size {n}", "sku": f"SO-{n}", "stock": n % 3} for n in range(25)])
    return {"main": main, "depot": depot}


@pytest.fixture
def installed(shopify_standin: StandinHandle) -> Shop:
    """The shop installed by token exchange, with the initial sync row queued (not run)."""
    catalog_make(shopify_standin, SHOP)
    return shop_install_from_id_token(id_token=shopify_standin.admin.mint_id_token(SHOP),
                                      shop_domain=SHOP)


def mirror(shop: Shop) -> dict[str, Any]:
    """Everything the sync writes, keyed by Shopify ids (comparable across runs)."""
    return {
        "locations": sorted(Location.objects.filter(shop=shop).values_list(
            "shopify_id", "name", "is_active", "fulfills_online_orders")),
        "products": sorted(Product.objects.filter(shop=shop).values_list(
            "shopify_id", "title", "handle", "status", "published_online", "image_url",
            "removed_at")),
        "variants": sorted(Variant.objects.filter(shop=shop).values_list(
            "shopify_id", "product__shopify_id", "title", "sku", "price", "inventory_item_id",
            "inventory_tracked", "inventory_policy", "available_quantity", "removed_at")),
        "levels": sorted(InventoryLevel.objects.filter(shop=shop).values_list(
            "variant__shopify_id", "location__shopify_id", "available")),
    }


def mirror_wipe(shop: Shop) -> None:
    Product.objects.filter(shop=shop).delete()
    Location.objects.filter(shop=shop).delete()


def install_sync(shop: Shop) -> CatalogSync:
    return CatalogSync.objects.get(shop=shop, reason=CatalogSync.Reason.INSTALL)
