"""The demo shop `demo-shop.myshopify.com`, seeded to agree with `manage.py demo`.

Same product and variant ids, titles, handles, prices, SKUs, stock, tracking and policies as
notifyme/dev/demo.py (tests/standin/test_demo_seed.py checks that they agree; the stand-in may
not import the app). The stand-in adds what the mirror learns from Shopify: two locations (the
main warehouse fulfils online orders, the pop-up store does not) and inventory item ids.
"""

from __future__ import annotations

from .catalog import product_add
from .state import World

DEMO_SHOP_DOMAIN = "demo-shop.myshopify.com"
DEMO_SHOP_NAME = "Demo Outfitters"
WAREHOUSE_ID = 70_120_000_001
POPUP_ID = 70_120_000_002

# (product id, title, handle, price, option name, [(variant id, title, stock, tracked, policy)])
DEMO_CATALOG: tuple[tuple[int, str, str, str, str, tuple[tuple[int, str, int, bool, str], ...]],
                    ...] = (
    (8_120_000_000_001, "Linen Camp Shirt", "linen-camp-shirt", "68.00", "Size", (
        (45_120_000_000_011, "Small", 8, True, "DENY"),
        (45_120_000_000_012, "Medium", 0, True, "DENY"),
        (45_120_000_000_013, "Large", 3, True, "DENY"),
        (45_120_000_000_014, "X-Large", 0, True, "DENY"),
    )),
    (8_120_000_000_002, "Merino Crew Socks", "merino-crew-socks", "18.00", "Color", (
        (45_120_000_000_021, "Charcoal", 24, True, "DENY"),
        (45_120_000_000_022, "Oat", 0, True, "DENY"),
        (45_120_000_000_023, "Forest", 0, False, "DENY"),
    )),
    (8_120_000_000_003, "Waxed Canvas Tote", "waxed-canvas-tote", "95.00", "Color", (
        (45_120_000_000_031, "Olive", 5, True, "DENY"),
        (45_120_000_000_032, "Navy", 0, True, "DENY"),
        (45_120_000_000_033, "Tan", 0, True, "CONTINUE"),
    )),
)


def demo_sku(product_title: str, variant_title: str) -> str:
    """notifyme/dev/demo.py's `_sku`."""
    initials = "".join(word[0] for word in product_title.split()).upper()
    return f"DO-{initials}-{variant_title.upper().replace(' ', '')}"


def demo_seed(world: World) -> None:
    """Create the demo shop (idempotent: nothing happens when it exists)."""
    if DEMO_SHOP_DOMAIN in world.shops:
        return
    shop = world.create_shop(DEMO_SHOP_DOMAIN, name=DEMO_SHOP_NAME,
                             email="owner@demo-shop.example", location=None)
    world.add_location(shop, name="Main warehouse", location_id=WAREHOUSE_ID)
    world.add_location(shop, name="Pop-up store", fulfills_online_orders=False,
                       location_id=POPUP_ID)
    for product_id, title, handle, price, option, variants in DEMO_CATALOG:
        product_add(world, shop, {
            "id": product_id, "title": title, "handle": handle, "option_name": option,
            "variants": [{"id": vid, "title": vtitle, "sku": demo_sku(title, vtitle),
                          "price": price, "tracked": tracked, "inventory_policy": policy,
                          "stock": {WAREHOUSE_ID: stock}}
                         for vid, vtitle, stock, tracked, policy in variants]})
