"""In-memory shops: locations, products, variants, inventory items and per-location levels.

Contract: `World.lock` (re-entrant) guards everything; mutating methods take it themselves and
return plain values. Ids look like Shopify's: large integers, inventory item ids above 2**53
(`ITEM_BASE + variant id`), so a client that parses JSON numbers into doubles breaks here as it
would against Shopify. Timestamps have Shopify's one-second precision and strictly increase per
entity (`stamp`), so two changes in the same second still order by `updated_at`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .web import HttpError

PRODUCT_BASE = 8_200_000_000_000
VARIANT_BASE = 45_200_000_000_000
ITEM_BASE = 10_000_000_000_000_000  # + variant id: always > 2**53
LOCATION_BASE = 70_000_000_000
IMAGE_BASE = 30_000_000_000_000
SHOP_BASE = 60_000_000
STATUSES = ("ACTIVE", "DRAFT", "ARCHIVED", "UNLISTED")
POLICIES = ("DENY", "CONTINUE")


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def stamp(previous: datetime | None) -> datetime:
    """Now (whole seconds), but strictly after `previous`."""
    current = now()
    if previous is not None and current <= previous:
        return previous + timedelta(seconds=1)
    return current


@dataclass
class Location:
    id: int
    name: str
    is_active: bool = True
    fulfills_online_orders: bool = True
    created_at: datetime = field(default_factory=now)


@dataclass
class Level:
    location_id: int
    available: int
    updated_at: datetime = field(default_factory=now)


@dataclass
class Variant:
    id: int
    product_id: int
    title: str
    sku: str
    price: Decimal
    inventory_policy: str = "DENY"
    tracked: bool = True
    position: int = 1
    levels: dict[int, Level] = field(default_factory=dict)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    @property
    def inventory_item_id(self) -> int:
        return ITEM_BASE + self.id

    def quantity(self, locations: dict[int, Location]) -> int:
        """Shopify's `inventoryQuantity`: available summed over active locations."""
        return sum(level.available for loc_id, level in self.levels.items()
                   if loc_id in locations and locations[loc_id].is_active)


@dataclass
class Product:
    id: int
    title: str
    handle: str
    status: str = "ACTIVE"
    published_at: datetime | None = field(default_factory=now)
    image_url: str | None = None
    image_id: int | None = None
    vendor: str = "Stand-in"
    product_type: str = ""
    description: str = ""
    option_name: str = "Title"
    variant_ids: list[int] = field(default_factory=list)
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class ShopState:
    id: int
    domain: str
    name: str
    email: str
    currency: str = "USD"
    country: str = "US"
    installed: bool = False
    locations: dict[int, Location] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    variants: dict[int, Variant] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)  # REST orders (orders.py)
    created_at: datetime = field(default_factory=now)

    def product(self, product_id: int) -> Product:
        found = self.products.get(product_id)
        if found is None:
            raise HttpError(404, {"error": f"product {product_id} not found in {self.domain}"})
        return found

    def variant_by_item(self, item_id: int) -> Variant | None:
        return self.variants.get(item_id - ITEM_BASE)

    def find_variant(self, ref: str) -> Variant:
        """A variant by id, inventory item id, GID or SKU (for the command and the page)."""
        text = ref.strip().rsplit("/", 1)[-1]
        if text.isdigit():
            number = int(text)
            found = self.variants.get(number) or self.variant_by_item(number)
            if found is not None:
                return found
        for variant in self.variants.values():
            if variant.sku == ref.strip():
                return variant
        raise HttpError(404, {"error": f"no variant {ref!r} in {self.domain}"})

    def default_location(self) -> Location:
        active = [loc for loc in self.locations.values() if loc.is_active]
        if not active:
            raise HttpError(400, {"error": f"{self.domain} has no active location"})
        return active[0]


@dataclass
class Counters:
    product: int = 0
    variant: int = 0
    location: int = 0
    image: int = 0
    shop: int = 0
    order: int = 0

    def next(self, name: str) -> int:
        value = getattr(self, name) + 1
        setattr(self, name, value)
        return value


class World:
    """Every shop of the stand-in. Catalog edits go through `catalog.py`."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.shops: dict[str, ShopState] = {}
        self.counters = Counters()

    def reset(self) -> None:
        with self.lock:
            self.shops.clear()
            self.counters = Counters()

    def shop(self, domain: str) -> ShopState:
        found = self.shops.get(domain.strip().lower())
        if found is None:
            raise HttpError(404, {"errors": "Not Found"})
        return found

    def create_shop(self, domain: str, *, name: str | None = None, email: str | None = None,
                    currency: str = "USD", country: str = "US",
                    location: str | None = "Main warehouse") -> ShopState:
        domain = domain.strip().lower()
        if not domain.endswith(".myshopify.com") or "/" in domain:
            raise HttpError(400, {"error": "domain must be <name>.myshopify.com"})
        with self.lock:
            if domain in self.shops:
                raise HttpError(409, {"error": f"shop {domain} exists"})
            handle = domain.split(".")[0]
            shop = ShopState(id=SHOP_BASE + self.counters.next("shop"), domain=domain,
                             name=name or handle.replace("-", " ").title(),
                             email=email or f"owner@{handle}.example", currency=currency,
                             country=country)
            self.shops[domain] = shop
            if location:
                self.add_location(shop, name=location)
            return shop

    def add_location(self, shop: ShopState, *, name: str, is_active: bool = True,
                     fulfills_online_orders: bool = True,
                     location_id: int | None = None) -> Location:
        with self.lock:
            loc_id = location_id or LOCATION_BASE + self.counters.next("location")
            location = Location(id=loc_id, name=name, is_active=is_active,
                                fulfills_online_orders=fulfills_online_orders)
            shop.locations[loc_id] = location
            for variant in shop.variants.values():  # stocked at every location, at 0
                variant.levels.setdefault(loc_id, Level(loc_id, 0))
            return location

    def snapshot(self, values: Any) -> list[Any]:
        """A list copy taken under the lock (bulk queries read without holding it)."""
        with self.lock:
            return list(values)
