"""RQ entry point of reconciliation (thin: a shop id in, one service call; see reconcile.py)."""

from __future__ import annotations

from typing import Any

from notifyme.catalog import reconcile
from notifyme.delivery import nudges
from notifyme.shops.models import Shop


def run_reconcile(shop_id: int) -> dict[str, Any]:
    nudges.job_started(kind=reconcile.KIND, lane=reconcile.LANE, key=shop_id)
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        return {"skipped": "no such shop"}
    return reconcile.reconcile_shop(shop=shop).summary()
