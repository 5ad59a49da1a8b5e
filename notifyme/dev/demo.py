"""The demo shop: a few products whose variants cover every storefront availability case.

`demo_load()` is idempotent. Rows are keyed on their (stable) Shopify ids, so re-running it
changes nothing; stock a tester changed (in the admin, or by a restock) is kept unless
`reset_stock=True` asks for the seeded quantities back (written by `variant_update_stock`, so
restock detection sees the reset like any other stock change).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from notifyme.catalog.models import Variant
from notifyme.catalog.services import product_upsert, variant_upsert
from notifyme.shops.models import Shop
from notifyme.shops.services import shop_install

DEMO_SHOP_DOMAIN = "demo-shop.myshopify.com"
DEMO_SHOP_NAME = "Demo Outfitters"
DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_PASSWORD = "admin"  # noqa: S105 - development-only account, created only when DEBUG

DENY = Variant.InventoryPolicy.DENY
CONTINUE = Variant.InventoryPolicy.CONTINUE


@dataclass(frozen=True)
class SeedVariant:
    shopify_id: int
    title: str
    stock: int
    tracked: bool = True
    policy: str = DENY


@dataclass(frozen=True)
class SeedProduct:
    shopify_id: int
    title: str
    handle: str
    price: Decimal
    variants: tuple[SeedVariant, ...]
    option_name: str = "Size"
    description: str = ""


DEMO_PRODUCTS: tuple[SeedProduct, ...] = (
    SeedProduct(
        8_120_000_000_001, "Linen Camp Shirt", "linen-camp-shirt", Decimal("68.00"),
        (
            SeedVariant(45_120_000_000_011, "Small", 8),
            SeedVariant(45_120_000_000_012, "Medium", 0),
            SeedVariant(45_120_000_000_013, "Large", 3),
            SeedVariant(45_120_000_000_014, "X-Large", 0),
        ),
        description="A relaxed camp-collar shirt in washed European linen. Breathable, soft from "
                    "the first wear, and cut a little longer to wear untucked.",
    ),
    SeedProduct(
        8_120_000_000_002, "Merino Crew Socks", "merino-crew-socks", Decimal("18.00"),
        (
            SeedVariant(45_120_000_000_021, "Charcoal", 24),
            SeedVariant(45_120_000_000_022, "Oat", 0),
            # Not tracked: always sellable, so never offers an alert.
            SeedVariant(45_120_000_000_023, "Forest", 0, tracked=False),
        ),
        option_name="Color",
        description="Midweight merino crew socks with a cushioned sole and a seamless toe.",
    ),
    SeedProduct(
        8_120_000_000_003, "Waxed Canvas Tote", "waxed-canvas-tote", Decimal("95.00"),
        (
            SeedVariant(45_120_000_000_031, "Olive", 5),
            SeedVariant(45_120_000_000_032, "Navy", 0),
            # Keeps selling when out of stock (backorder): sellable, no alert.
            SeedVariant(45_120_000_000_033, "Tan", 0, policy=CONTINUE),
        ),
        option_name="Color",
        description="A roomy everyday tote in waxed cotton canvas with leather handles and an "
                    "inside pocket. Tan ships in two weeks.",
    ),
)


@dataclass(frozen=True)
class DemoResult:
    shop: Shop
    variants: list[Variant]
    created: int
    admin_created: bool


def _sku(product: SeedProduct, variant: SeedVariant) -> str:
    initials = "".join(word[0] for word in product.title.split()).upper()
    return f"DO-{initials}-{variant.title.upper().replace(' ', '')}"


@transaction.atomic
def demo_load(*, reset_stock: bool = False, ensure_admin: bool = False) -> DemoResult:
    """Create or refresh the demo shop and catalog; return its variants in seed order.

    Written through the services a real shop's data comes through (`shop_install`, the
    catalog's upserts), so a reset of stock runs restock detection like any stock change."""
    shop = shop_install(domain=DEMO_SHOP_DOMAIN, name=DEMO_SHOP_NAME, country_code="US",
                        currency="USD")
    created = 0
    variants: list[Variant] = []
    for seed in DEMO_PRODUCTS:
        product, _ = product_upsert(shop=shop, shopify_id=seed.shopify_id, title=seed.title,
                                    handle=seed.handle)
        for seed_variant in seed.variants:
            upserted = variant_upsert(
                product=product, shopify_id=seed_variant.shopify_id, title=seed_variant.title,
                sku=_sku(seed, seed_variant), price=seed.price, quantity=seed_variant.stock,
                inventory_tracked=seed_variant.tracked, inventory_policy=seed_variant.policy,
                keep_stock=not reset_stock,
            )
            created += upserted.created
            variants.append(upserted.variant)
    admin_created = _ensure_admin() if ensure_admin else False
    return DemoResult(shop=shop, variants=variants, created=created, admin_created=admin_created)


def _ensure_admin() -> bool:
    """Development only: a superuser admin/admin for the support admin, if none exists yet."""
    user_model = get_user_model()
    if user_model.objects.filter(username=DEMO_ADMIN_USERNAME).exists():
        return False
    user_model.objects.create_superuser(
        username=DEMO_ADMIN_USERNAME, email="admin@example.com", password=DEMO_ADMIN_PASSWORD
    )
    return True


def demo_product_seed(handle: str) -> SeedProduct | None:
    """Display-only details (option name, description) the catalog mirror does not keep."""
    return next((seed for seed in DEMO_PRODUCTS if seed.handle == handle), None)
