"""`python -m sandboxes.shopify stock [--url URL] [--location ID] SHOP VARIANT QTY`.

Sets a variant's available stock at one location (default: the shop's first active location)
through the control API, so the stand-in sends the signed `inventory_levels/update` webhook.
VARIANT is a SKU, a variant id, an inventory item id or a GID.
"""

from __future__ import annotations

import argparse
import sys

from .admin import StandinAdmin, StandinAdminError


def stock_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.shopify stock",
                                     description="Change a variant's stock in the stand-in")
    parser.add_argument("--url", default="http://127.0.0.1:8200", help="the stand-in")
    parser.add_argument("--location", type=int, default=None, help="location id")
    parser.add_argument("shop", help="e.g. demo-shop.myshopify.com")
    parser.add_argument("variant", help="SKU, variant id or inventory item id")
    parser.add_argument("quantity", type=int)
    options = parser.parse_args(argv)
    try:
        level = StandinAdmin(options.url).set_variant_stock(
            options.shop, options.variant, options.quantity, location_id=options.location)
    except StandinAdminError as exc:
        print(f"standin: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"{options.shop}: inventory item {level['inventory_item_id']} at location "
          f"{level['location_id']} now {level['available']} (inventory_levels/update sent)")
