"""`manage.py demo_revenue`: give the demo shop's Revenue page something to show (idempotent).

Past restocks with sent alerts and the orders that followed (`notifyme.dev.demo_revenue`).
Run after `manage.py demo`; refused when the dev tools are off (always in production).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from notifyme.dev.demo import DEMO_SHOP_DOMAIN
from notifyme.dev.demo_revenue import demo_revenue_load
from notifyme.shops.models import Shop


class Command(BaseCommand):
    help = "Add past restocks and recovered orders to the demo shop (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.NOTIFYME_DEV_TOOLS:
            raise CommandError("Demo data is a development tool and NOTIFYME_DEV_TOOLS is off.")
        shop = Shop.objects.filter(domain=DEMO_SHOP_DOMAIN).first()
        if shop is None:
            raise CommandError("No demo shop yet: run `manage.py demo` first.")
        outcomes = demo_revenue_load(shop=shop)
        for line in outcomes:
            self.stdout.write(line)
        self.stdout.write("Demo revenue: " + ("written" if outcomes else "already there")
                          + " (see /app/revenue).")
