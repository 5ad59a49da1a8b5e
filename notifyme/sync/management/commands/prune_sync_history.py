"""`python manage.py prune_sync_history [--dry-run]`: delete sync history past its retention.

The sweeper already does this once an hour (`notifyme.sync.retention`); run it by hand after
lowering a retention setting, or with `--dry-run` to see what would go.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifyme.sync.retention import prune_history


class Command(BaseCommand):
    help = "Delete finished outbox rows, import jobs and Klaviyo call records past retention."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="count what would be deleted, delete nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = prune_history(dry_run=options["dry_run"])
        verb = "would delete" if options["dry_run"] else "deleted"
        for name, count in counts.items():
            self.stdout.write(f"{name}: {verb} {count:,}")
