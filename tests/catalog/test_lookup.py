"""`inventory_levels/update` for an inventory item the mirror does not know: one Admin API
lookup (against the Shopify stand-in) links it to the mirrored variant, then the level applies;
an item Shopify does not know either completes with the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.catalog.services import product_upsert, variant_upsert
from notifyme.restocks.models import Restock
from notifyme.webhooks import processing
from notifyme.webhooks.models import WebhookEvent
from tests.catalog.rest_payloads import rest_level
from tests.catalog.test_reconcile import DOMAIN, _installed
from tests.fixtures.shopify_standin import StandinHandle
from tests.restocks.conftest import add_subscribers
from tests.webhooks.conftest import deliver

pytestmark = pytest.mark.django_db


def test_an_unknown_item_is_looked_up_once_then_applied(
        client: Client, shopify_standin: StandinHandle) -> None:
    shop = _installed(shopify_standin)
    made = shopify_standin.admin.add_product(DOMAIN, "Field Jacket", notify=False, variants=[
        {"title": "M", "sku": "FJ-M", "price": "120.00", "stock": 0}])
    # Mirrored before its inventory item id was known (the demo loader, an older sync).
    product, _ = product_upsert(shop=shop, shopify_id=int(made["product_id"]),
                                title="Field Jacket")
    variant = variant_upsert(product=product, shopify_id=int(made["variant_ids"][0]),
                             price=Decimal("120.00")).variant
    assert variant.inventory_item_id is None
    add_subscribers(shop, variant, 2)
    location = shopify_standin.admin.shop(DOMAIN)["locations"][0]["id"]
    item = int(made["inventory_item_ids"][0])
    assert deliver(client, "inventory_levels/update",
                   rest_level(3, item=item, location=int(location)),
                   shop_domain=DOMAIN).status_code == 200
    processing.process_shop(DOMAIN)
    event = WebhookEvent.objects.get()
    assert event.state == "processed" and "restock #" in event.outcome, event.outcome
    variant.refresh_from_db()
    assert variant.inventory_item_id == item and variant.available_quantity == 3
    assert Restock.objects.get().total == 2

    deliver(client, "inventory_levels/update", rest_level(3, item=item + 12345),
            shop_domain=DOMAIN)
    processing.process_shop(DOMAIN)
    unknown = WebhookEvent.objects.latest("id")
    assert (unknown.state, unknown.outcome) == ("processed", "inventory item not in the catalog")
    assert Variant.objects.filter(shop=shop).count() == 1
