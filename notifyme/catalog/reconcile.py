"""Reconciliation: re-read from Shopify the stock of the variants shoppers wait for.

Shopify does not promise to deliver every webhook (platform notes §4), so a lost
`inventory_levels/update` must not leave subscribers waiting forever. For each installed shop
with a usable token, the variants with waiting (active) subscribers (`hooks.variants_awaited`,
registered by the subscriptions app; removed variants and products are skipped) are re-read in
batches through `integrations.shopify.catalog.variants_inventory` — the client's per-shop cost
bucket paces the queries, shared with every other Shopify call of the shop — and their levels go
through `inventory_levels_apply`: newer-only per location, so what a webhook already told
changes nothing, and a rise a lost webhook missed starts its restock exactly as the webhook
would have.

Scheduling: the `catalog_reconcile` delivery handler's sweep (every minute, in the sweeper
process) enqueues at most one job per shop every `CATALOG_RECONCILE_MINUTES` (a Redis key with
that TTL gates it; a flushed Redis only makes the next reconcile come sooner), coalesced on the
`bulk` lane (`nudges.enqueue_coalesced`). The job is idempotent: running it twice reads and
applies the same levels.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from integrations.shopify.catalog import variants_inventory
from integrations.shopify.client import AdminClient
from integrations.shopify.errors import ReauthRequired, ShopifyError
from notifyme.catalog import conf, hooks
from notifyme.catalog.inventory import inventory_levels_apply, variant_link_inventory_item
from notifyme.catalog.models import Variant
from notifyme.catalog.snapshots import LevelSnapshot
from notifyme.catalog.stock import StockUpdate
from notifyme.core.redis import get_redis
from notifyme.delivery import nudges
from notifyme.shops.models import Shop

logger = logging.getLogger(__name__)
KIND = "catalog-reconcile"
LANE = "bulk"
JOB = "notifyme.catalog.reconcile_jobs.run_reconcile"
JOB_OPTIONS: dict[str, Any] = {"result_ttl": 0, "failure_ttl": 86400, "job_timeout": 900}


@dataclass
class Reconciled:
    """What one reconcile of one shop did (for logs, the job result and tests)."""

    variants: int = 0
    found: int = 0
    levels: int = 0
    updates: list[StockUpdate] = field(default_factory=list)
    skipped: str = ""

    @property
    def restocks(self) -> int:
        return sum(1 for update in self.updates if update.acted)

    def summary(self) -> dict[str, Any]:
        return {"variants": self.variants, "found": self.found, "levels": self.levels,
                "stock_changes": len(self.updates), "restocks": self.restocks,
                "skipped": self.skipped}


def reconcilable_shops() -> Any:
    """Installed shops whose token can be used (no re-auth pending, a token stored)."""
    return (Shop.objects.installed().filter(auth_state=Shop.AuthState.OK)
            .exclude(access_token_encrypted=""))


def _chunks(items: Sequence[Variant], size: int) -> Iterator[Sequence[Variant]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _int(value: Any) -> int | None:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    return int(text) if text.isdigit() else None


def _available(level: dict[str, Any]) -> int | None:
    for quantity in level.get("quantities") or []:
        if isinstance(quantity, dict) and quantity.get("name") == "available":
            value = quantity.get("quantity")
            return value if isinstance(value, int) and not isinstance(value, bool) else None
    return None


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def node_levels(node: dict[str, Any]) -> tuple[int | None, int | None, list[LevelSnapshot]]:
    """A `VariantsInventory` node → (variant id, inventory item id, its level snapshots);
    levels without a readable location or `available` are left out."""
    item = node.get("inventoryItem") or {}
    item_id = _int(item.get("legacyResourceId"))
    levels: list[LevelSnapshot] = []
    for level in (item.get("inventoryLevels") or {}).get("nodes") or []:
        location_id = _int((level.get("location") or {}).get("legacyResourceId"))
        available = _available(level)
        if item_id is None or location_id is None or available is None:
            continue
        levels.append(LevelSnapshot(inventory_item_id=item_id, location_id=location_id,
                                    available=available, updated_at=_time(level.get("updatedAt"))))
    return _int(node.get("legacyResourceId")), item_id, levels


def _batch(shop: Shop, client: AdminClient, batch: Sequence[Variant], done: Reconciled) -> None:
    mirrored = {variant.shopify_id: variant for variant in batch}
    nodes = variants_inventory(client, variant_ids=list(mirrored))
    levels: list[LevelSnapshot] = []
    for node in nodes:
        variant_id, item_id, found = node_levels(node)
        variant = mirrored.get(variant_id or 0)
        if variant is None or item_id is None:
            continue
        done.found += 1
        if variant.inventory_item_id != item_id:
            variant_link_inventory_item(shop=shop, variant_shopify_id=variant.shopify_id,
                                        inventory_item_id=item_id)
        levels += found
    done.levels += len(levels)
    done.updates += inventory_levels_apply(shop=shop, levels=levels)


def reconcile_shop(*, shop: Shop) -> Reconciled:
    """Re-read and apply the levels of the shop's awaited variants (see module docstring).
    A shop that needs re-auth or a Shopify outage ends the run early with `skipped` set; what
    was applied before stays applied (each batch commits on its own)."""
    done = Reconciled()
    if not reconcilable_shops().filter(pk=shop.pk).exists():
        done.skipped = "the shop is not installed or has no usable token"
        return done
    awaited = hooks.variants_awaited(shop=shop)
    variants = list(Variant.objects.filter(
        shop=shop, pk__in=awaited, removed_at__isnull=True, product__removed_at__isnull=True,
    ).order_by("pk"))
    done.variants = len(variants)
    client = AdminClient(shop)
    try:
        for batch in _chunks(variants, conf.reconcile_batch()):
            _batch(shop, client, batch, done)
    except ReauthRequired:
        done.skipped = "the shop needs re-authorisation"
    except ShopifyError as error:
        done.skipped = f"Shopify: {error.kind}"
    logger.info("reconcile %s: %s", shop.domain, done.summary())
    return done


def _gate(shop_id: int, minutes: float) -> bool:
    """True once per `minutes` per shop (a Redis key with that TTL)."""
    key = f"catalog:reconcile:gate:{shop_id}"
    return bool(get_redis().set(key, "1", nx=True, ex=max(1, int(minutes * 60))))


def _ungate(shop_id: int) -> None:
    get_redis().delete(f"catalog:reconcile:gate:{shop_id}")


def reconcile_sweep() -> dict[str, int]:
    """The sweeper's tick: enqueue a coalesced reconcile job for every reconcilable shop whose
    last one is at least `CATALOG_RECONCILE_MINUTES` old. Best effort (Redis down: next tick)."""
    minutes = conf.reconcile_minutes()
    enqueued = 0
    try:
        for shop_id in reconcilable_shops().values_list("pk", flat=True):
            if not _gate(shop_id, minutes):
                continue
            try:
                enqueued += int(nudges.enqueue_coalesced(
                    kind=KIND, lane=LANE, key=shop_id, func=JOB, args=(shop_id,),
                    verify=True, options=JOB_OPTIONS))
            except Exception:
                _ungate(shop_id)
                raise
    except Exception:
        logger.warning("reconcile sweep could not enqueue; the next tick will")
    return {"enqueued": enqueued}
