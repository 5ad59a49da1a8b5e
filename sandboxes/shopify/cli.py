"""`python -m sandboxes.shopify stock [--url URL] [--location ID] SHOP VARIANT QTY` and
`python -m sandboxes.shopify order [--url URL] SHOP VARIANT [--quantity N] [--email E]
[--phone P] [--customer-id ID] [--through-alert RESTOCK_ID | --landing URL] [--days-ago D]`.

`stock` sets a variant's available stock at one location (default: the shop's first active
location) through the control API, so the stand-in sends the signed `inventory_levels/update`
webhook. `order` places an order (the signed `orders/create` webhook): `--through-alert` lands
through that restock's alert link (a "direct" recovered order), `--landing` on any page.
VARIANT is a SKU, a variant id, an inventory item id or a GID.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

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


def order_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.shopify order",
                                     description="Place an order in the stand-in")
    parser.add_argument("--url", default="http://127.0.0.1:8200", help="the stand-in")
    parser.add_argument("shop", help="e.g. demo-shop.myshopify.com")
    parser.add_argument("variant", help="SKU, variant id or inventory item id")
    parser.add_argument("--quantity", type=int, default=1)
    parser.add_argument("--email", default=None)
    parser.add_argument("--phone", default=None)
    parser.add_argument("--customer-id", type=int, default=None)
    link = parser.add_mutually_exclusive_group()
    link.add_argument("--through-alert", type=int, default=None, metavar="RESTOCK_ID",
                      help="the shopper came through that restock's alert link")
    link.add_argument("--landing", default=None, help="the page the visit started on")
    parser.add_argument("--days-ago", type=float, default=0.0,
                        help="place the order this many days in the past")
    options = parser.parse_args(argv)
    created = None
    if options.days_ago:
        created = (datetime.now(UTC) - timedelta(days=options.days_ago)).isoformat()
    try:
        order = StandinAdmin(options.url).create_order(
            options.shop, options.variant, quantity=options.quantity, email=options.email,
            phone=options.phone, customer_id=options.customer_id,
            landing_site=options.landing, through_alert=options.through_alert,
            created_at=created)
    except StandinAdminError as exc:
        print(f"standin: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"{options.shop}: order {order['name']} ({order['id']}) for {order['total_price']} "
          f"{order['currency']}, landing {order['landing_site'] or '-'} (orders/create sent)")
