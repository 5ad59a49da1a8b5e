"""Catalog topics: `products/create|update|delete` and `inventory_levels/update`.

Thin: the payload goes through `notifyme.catalog.rest` (validated; a `PayloadError` fails the
event with the field it names) into the catalog's services, which are newer-only by Shopify's
`updated_at`, so a redelivery or an out-of-order delivery changes nothing. A stock change goes
through `variant_update_stock` and restock detection, in the event's transaction.
"""

from __future__ import annotations

from notifyme.catalog.rest import (
    level_snapshot_from_rest,
    product_id_from_rest_delete,
    product_snapshot_from_rest,
)
from notifyme.catalog.selectors import variant_for_inventory_item
from notifyme.catalog.services import inventory_levels_apply, product_apply, product_remove
from notifyme.shops.models import Shop
from notifyme.webhooks.context import EventIgnored, WebhookContext
from notifyme.webhooks.handlers.lookup import inventory_item_lookup

NOT_IN_CATALOG = "inventory item not in the catalog"


def _shop(ctx: WebhookContext) -> Shop:
    if ctx.shop is None:
        raise EventIgnored("no such shop here")
    if ctx.shop.state != Shop.State.INSTALLED:
        raise EventIgnored("the shop is uninstalled")
    return ctx.shop


def product_changed(ctx: WebhookContext) -> str:
    """`products/create` and `products/update`."""
    shop = _shop(ctx)
    return product_apply(shop=shop, snapshot=product_snapshot_from_rest(ctx.payload)).describe()


def product_deleted(ctx: WebhookContext) -> str:
    """`products/delete`: removed as of Shopify's trigger time (or now)."""
    shop = _shop(ctx)
    removed = product_remove(shop=shop, shopify_id=product_id_from_rest_delete(ctx.payload),
                             at=getattr(ctx.event, "triggered_at", None))
    return removed.describe()


def inventory_level_changed(ctx: WebhookContext) -> str:
    """`inventory_levels/update`: an item the mirror does not know is looked up once through
    the Admin API (`lookup.inventory_item_lookup`); still unknown → nothing to do."""
    shop = _shop(ctx)
    level = level_snapshot_from_rest(ctx.payload)
    item = level.inventory_item_id
    known = variant_for_inventory_item(shop=shop, inventory_item_id=item)
    if known is None and not inventory_item_lookup(shop=shop, inventory_item_id=item):
        return NOT_IN_CATALOG
    updates = inventory_levels_apply(shop=shop, levels=[level])
    if not updates:
        return f"level of item {item} at location {level.location_id}: no stock change"
    return "; ".join(update.describe() for update in updates)
