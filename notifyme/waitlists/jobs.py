"""RQ entry point of a waitlist import (thin: an import id in, one service call).

Enqueued by path from `notifyme.waitlists.importing` on the `bulk` queue; imported by the
worker before its first job (`registry.Handler.warm_up`).
"""

from __future__ import annotations

from notifyme.waitlists.importing import waitlist_import_run


def run_waitlist_import(import_id: int) -> str:
    return waitlist_import_run(import_id=import_id)
