"""One Admin API lookup for an inventory item the mirror does not know.

`inventory_levels/update` carries only the inventory item and location; the mirror finds the
variant by `inventory_item_id`. When it is not there (a variant mirrored before its item id was
known, e.g. by the demo loader or an older sync), one `InventoryItemVariant` query
(`integrations.shopify.catalog.inventory_item_variant`) names the variant, and if the mirror has
that variant the item id is recorded on it. A variant the mirror does not have at all is not
created from here: its product arrives by `products/create` or the catalog sync.
A Shopify outage propagates (`ShopifyUnavailable`: the event is retried later); a shop that
needs re-authorisation cannot be asked, and the item counts as unknown.
"""

from __future__ import annotations

import logging

from integrations.shopify.catalog import inventory_item_variant
from integrations.shopify.client import AdminClient
from integrations.shopify.errors import ReauthRequired
from notifyme.catalog.services import variant_link_inventory_item
from notifyme.shops.models import Shop

logger = logging.getLogger(__name__)


def _variant_id(item: dict[str, object] | None) -> int | None:
    variant = item.get("variant") if item else None
    raw = variant.get("legacyResourceId") if isinstance(variant, dict) else None
    return int(raw) if isinstance(raw, str | int) and str(raw).isdigit() else None


def inventory_item_lookup(*, shop: Shop, inventory_item_id: int) -> bool:
    """Link the item to its mirrored variant if Shopify names one; True when linked."""
    if shop.auth_state != Shop.AuthState.OK or not shop.access_token_encrypted:
        return False  # no token to ask with (the install or a re-auth will sync the catalog)
    try:
        item = inventory_item_variant(AdminClient(shop), inventory_item_id=inventory_item_id)
    except ReauthRequired:
        logger.info("inventory item lookup skipped for %s: the shop needs re-auth", shop.domain)
        return False
    variant_id = _variant_id(item)
    if variant_id is None:
        return False
    linked = variant_link_inventory_item(shop=shop, variant_shopify_id=variant_id,
                                         inventory_item_id=inventory_item_id)
    return linked is not None
