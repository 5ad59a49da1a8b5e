"""RQ entry points of the restock fan-out (thin: a restock id in, one service call).

Enqueued by `notifyme.restocks.nudging` (by path, on the `bulk` queue). The worker imports this
module before its first job (`registry.Handler.warm_up`), so jobs start with the fan-out code,
the Klaviyo client and requests already loaded.
"""

from __future__ import annotations

from notifyme.restocks import batches, fanout, materialise
from notifyme.restocks.models import Restock
from notifyme.restocks.nudging import fanout_nudge


def run_fanout_chunk(restock_id: int, from_start: bool = False) -> None:
    fanout.fanout_send_chunk(restock_id=restock_id, from_start=from_start)


def run_restock_advance(restock_id: int) -> None:
    batches.restock_advance(restock_id=restock_id)


def run_restock_materialise(restock_id: int) -> None:
    materialise.materialise_run(restock_id=restock_id)


def restocks_resume(*, shop_id: int) -> int:
    """Nudge every unfinished restock of a shop (e.g. right after the merchant reconnects
    Klaviyo, instead of waiting for the next sweep); returns how many were nudged."""
    running = Restock.objects.filter(
        shop_id=shop_id, state__in=[Restock.State.RUNNING, Restock.State.PAUSED_SOLD_OUT]
    ).values_list("id", flat=True)
    return sum(int(fanout_nudge(restock_id=restock_id)) for restock_id in running)
