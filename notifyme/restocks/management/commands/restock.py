"""`python manage.py restock <shop-domain> <variant-id> <quantity>`: set stock, maybe restock.

Thin: one call to the catalog's `variant_update_stock` (exactly what an inventory webhook
does; restock detection runs on its stock hook), then prints what happened ("restock #12
started: 340 subscribers") or why nothing started.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifyme.catalog.models import Variant
from notifyme.catalog.services import variant_update_stock


class Command(BaseCommand):
    help = "Set a variant's sellable quantity; starts a restock when it counts as one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("shop_domain", help="e.g. demo-shop.myshopify.com")
        parser.add_argument("variant_id", type=int, help="the variant's Shopify id")
        parser.add_argument("quantity", type=int, help="sellable quantity now")

    def handle(self, *args: Any, **options: Any) -> None:
        domain = options["shop_domain"].strip().lower()
        variant = (
            Variant.objects.select_related("shop", "product")
            .filter(shop__domain=domain, shopify_id=options["variant_id"])
            .first()
        )
        if variant is None:
            raise CommandError(f"no variant {options['variant_id']} in shop {domain}")
        update = variant_update_stock(variant=variant, quantity=options["quantity"])
        self.stdout.write(update.describe())
