"""RQ entry points for the sync engine (thin: ids in, one service call)."""

from __future__ import annotations

import django_rq


def enqueue_shop_sync(*, shop_id: int) -> None:
    django_rq.get_queue("sync").enqueue(sync_shop, shop_id, job_id=f"sync-shop-{shop_id}")


def sync_shop(shop_id: int) -> None:
    """Drain this shop's due outbox rows (implemented by the sync engine, issue 5)."""
    raise NotImplementedError("sync engine not built yet")
