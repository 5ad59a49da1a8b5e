"""What Shopify says about a product, a location or a stock level, in one shape for every source.

Webhook payloads (REST JSON), the Admin GraphQL pages and a bulk operation's JSONL all arrive in
different shapes; each source converts to these snapshots and the catalog services apply them
(newer-only, by Shopify's `updated_at`). So the mirror has one write path whatever told us.
Ids are Shopify's numeric ids (`legacyResourceId`), which exceed 2**53: kept as Python ints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class VariantSnapshot:
    shopify_id: int
    title: str = ""
    sku: str = ""
    price: Decimal = Decimal("0")
    image_url: str = ""
    inventory_item_id: int | None = None
    inventory_tracked: bool = True
    #: "deny" (stop selling at 0) or "continue" (keep selling), Shopify's inventory policy.
    inventory_policy: str = "deny"
    #: The variant's total quantity when the source states it (None: unknown, keep the mirror's).
    quantity: int | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ProductSnapshot:
    shopify_id: int
    title: str
    updated_at: datetime | None
    handle: str = ""
    image_url: str = ""
    #: "active", "draft" or "archived".
    status: str = "active"
    #: Published to the Online Store sales channel (only such products start restocks).
    published_online: bool = True
    variants: tuple[VariantSnapshot, ...] = ()
    #: True when `variants` lists every variant of the product (variants missing from it are
    #: gone); False for sources that may truncate (REST payloads list at most 100).
    complete_variants: bool = True


@dataclass(frozen=True)
class LocationSnapshot:
    shopify_id: int
    name: str
    is_active: bool = True
    fulfills_online_orders: bool = True


@dataclass(frozen=True)
class LevelSnapshot:
    """One inventory item's available quantity at one location."""

    inventory_item_id: int
    location_id: int
    available: int
    updated_at: datetime | None = None
