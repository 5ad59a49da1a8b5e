"""RQ entry point of the catalog sync (thin: a sync id in, one service call).

Enqueued by path from `notifyme.catalog.sync` on the `bulk` queue; imported by the worker
before its first job (`registry.Handler.warm_up`).
"""

from __future__ import annotations

from notifyme.catalog.sync_run import catalog_sync_run


def run_catalog_sync(sync_id: int) -> None:
    catalog_sync_run(sync_id=sync_id)
