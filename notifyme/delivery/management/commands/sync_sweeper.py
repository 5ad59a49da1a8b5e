"""`python manage.py sync_sweeper`: the delivery pipeline's clock (delayed nudges + minute sweep).

Run one (or more: it is idempotent) next to the workers. `--once` sweeps once and exits (cron).
"""

from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifyme.delivery import sweeper


class Command(BaseCommand):
    help = "Re-enqueue due/stale work of every kind every minute and fire delayed nudges (~10/s)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=60.0,
                            help="seconds between database sweeps (default 60)")
        parser.add_argument("--tick", type=float, default=0.1,
                            help="seconds between delayed-nudge checks (default 0.1)")
        parser.add_argument("--once", action="store_true", help="sweep once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            self.stdout.write(str(sweeper.sweep()))
            return
        stopping = {"now": False}

        def stop(*_: object) -> None:
            stopping["now"] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"sync sweeper: sweep every {options['interval']}s, "
                          f"delayed nudges every {options['tick']}s")
        sweeper.run(interval=options["interval"], tick_seconds=options["tick"],
                    stop=lambda: stopping["now"])
