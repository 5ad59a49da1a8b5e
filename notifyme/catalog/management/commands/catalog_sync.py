"""`python manage.py catalog_sync <shop-domain> [--mode auto|paging|bulk]`: a full catalog sync.

Thin: `catalog_sync_start` (the same row the app's panel shows), then `catalog_sync_run` in
this process, drawing a progress bar from the row after every progress write — in place on a
terminal, one line per 10 % otherwise (logs, CI). If a sync of the shop already runs (the
initial sync after install, a merchant's re-sync) the command follows that one until it ends.
Exit status 0 when the sync finished, non-zero with the reason when it failed.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifyme.catalog.sync import MODES, SyncAlreadyRunning, catalog_sync_start
from notifyme.catalog.sync_models import CatalogSync
from notifyme.catalog.sync_run import catalog_sync_run
from notifyme.shops.models import Shop

BAR_WIDTH = 30
FOLLOW_POLL_SECONDS = 1.0


class ProgressBar:
    """`[#####.....]  50%  25,000/50,000 variants  1,234 cost points` for a sync row."""

    def __init__(self, out: TextIO, *, tty: bool) -> None:
        self.out, self.tty, self.last_step = out, tty, -1

    def line(self, sync: CatalogSync) -> str:
        filled = sync.percent * BAR_WIDTH // 100
        total = f"{sync.total_variants:,}" if sync.total_variants is not None else "?"
        return (f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {sync.percent:3d}%  "
                f"{sync.done_variants:,}/{total} variants  {sync.done_products:,} products  "
                f"{sync.cost_points:,} cost points  ({sync.mode})")

    def draw(self, sync: CatalogSync) -> None:
        if self.tty:
            self.out.write("\r" + self.line(sync))
            self.out.flush()
            return
        step = sync.percent // 10
        if step > self.last_step:
            self.last_step = step
            self.out.write(self.line(sync) + "\n")

    def end(self, sync: CatalogSync) -> None:
        """The final state: drawn once more (a line only if its 10 % step was not printed)."""
        self.draw(sync)
        if self.tty:
            self.out.write("\n")


class Command(BaseCommand):
    help = "Read a shop's whole catalog from Shopify into the mirror, with a progress bar."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("shop_domain", help="e.g. demo-shop.myshopify.com")
        parser.add_argument("--mode", choices=MODES, default="auto",
                            help="auto (default): paging for small catalogs, bulk for large")

    def handle(self, *args: Any, **options: Any) -> None:
        domain = options["shop_domain"].strip().lower()
        shop = Shop.objects.filter(domain=domain).first()
        if shop is None or shop.state != Shop.State.INSTALLED:
            raise CommandError(f"no installed shop {domain}")
        out: Any = self.stdout
        bar = ProgressBar(out, tty=bool(getattr(out, "isatty", lambda: False)()))
        try:
            sync = catalog_sync_start(shop=shop, mode=options["mode"],
                                      reason=CatalogSync.Reason.COMMAND, enqueue=False)
        except SyncAlreadyRunning as running:
            out.write(f"catalog sync #{running.sync.pk} is already {running.sync.state}; "
                      "following it\n")
            sync = self._follow(running.sync, bar)
        else:
            out.write(f"catalog sync #{sync.pk} of {domain}\n")
            catalog_sync_run(sync_id=sync.pk, on_progress=bar.draw)
            sync.refresh_from_db()
        bar.end(sync)
        if sync.state != CatalogSync.State.SUCCEEDED:
            raise CommandError(f"catalog sync #{sync.pk} failed: {sync.error or sync.state}")
        out.write(f"done: {sync.done_products:,} products, {sync.done_variants:,} variants, "
                  f"{sync.cost_points:,} cost points\n")

    def _follow(self, sync: CatalogSync, bar: ProgressBar) -> CatalogSync:
        """Watch another job's sync; if that job died (stale heartbeat) run it here."""
        while not sync.finished:
            bar.draw(sync)
            if catalog_sync_run(sync_id=sync.pk, on_progress=bar.draw) is None:
                time.sleep(FOLLOW_POLL_SECONDS)
            sync.refresh_from_db()
        return sync
