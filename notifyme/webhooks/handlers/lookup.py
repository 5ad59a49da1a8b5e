"""One Admin API lookup for an inventory item the mirror does not know (placeholder until the
Shopify client lands: answers "not found")."""

from __future__ import annotations

from notifyme.shops.models import Shop


def inventory_item_lookup(*, shop: Shop, inventory_item_id: int) -> bool:
    """Link the item to its mirrored variant if Shopify knows it; True when linked."""
    return False
