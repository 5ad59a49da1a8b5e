"""`manage.py demo`: create (or refresh) the demo shop and print its variants.

Idempotent: re-running changes nothing, and stock changed since (by a tester or a restock) is
kept unless `--reset-stock` is given. `--json` prints only a JSON document, for scripts.
Refused when the dev tools are off (always the case in production).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifyme.catalog.models import Variant
from notifyme.dev.demo import DEMO_ADMIN_PASSWORD, DEMO_ADMIN_USERNAME, demo_load


def _state(variant: Variant) -> str:
    if not variant.inventory_tracked:
        return "available (not tracked)"
    if variant.available_quantity > 0:
        return "in stock"
    if variant.inventory_policy == Variant.InventoryPolicy.CONTINUE:
        return "available (backorder)"
    return "SOLD OUT - accepts alerts"


class Command(BaseCommand):
    help = "Create or refresh the demo shop, products and variants (idempotent) and list them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true",
                            help="Print only JSON: the shop domain and every variant.")
        parser.add_argument("--reset-stock", action="store_true",
                            help="Restore the seeded stock (otherwise existing stock is kept).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.NOTIFYME_DEV_TOOLS:  # always off in production (settings refuse it)
            raise CommandError("The demo shop is a development tool and NOTIFYME_DEV_TOOLS is "
                               "off (as in production): nothing was created.")
        result = demo_load(reset_stock=options["reset_stock"], ensure_admin=settings.DEBUG)
        if options["json"]:
            self.stdout.write(json.dumps({
                "shop": result.shop.domain,
                "variants": [
                    {"id": v.shopify_id, "product": v.product.title, "title": v.title,
                     "stock": v.available_quantity, "available": v.is_sellable}
                    for v in result.variants
                ],
            }, indent=2))
            return
        self._print_table(result.shop.name, result.shop.domain, result.variants)
        if result.created:
            self.stdout.write(f"Created {result.created} variant(s).")
        if settings.DEBUG:
            note = "created" if result.admin_created else "exists"
            self.stdout.write(
                f"Support admin: /admin/ user {DEMO_ADMIN_USERNAME} / password "
                f"{DEMO_ADMIN_PASSWORD} ({note}; development only, never in production)."
            )
        if settings.NOTIFYME_DEV_TOOLS:
            self.stdout.write("Demo storefront: /dev/storefront/")

    def _print_table(self, name: str, domain: str, variants: list[Variant]) -> None:
        rows = [("Product", "Variant", "Variant id", "Stock", "Storefront")]
        rows += [(v.product.title, v.title, str(v.shopify_id), str(v.available_quantity),
                  _state(v)) for v in variants]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        self.stdout.write(f"Demo shop: {name} ({domain})")
        for index, row in enumerate(rows):
            cells = [cell.rjust(width) if col == 3 else cell.ljust(width)
                     for col, (cell, width) in enumerate(zip(row, widths, strict=True))]
            self.stdout.write("  " + "  ".join(cells).rstrip())
            if index == 0:
                self.stdout.write("  " + "  ".join("-" * width for width in widths))
