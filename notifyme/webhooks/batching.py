"""Consecutive `inventory_levels/update` events of one claim, applied in one transaction.

A burst of stock changes (a warehouse import, a POS sync) arrives as thousands of level events
for one shop, and one transaction per event made processing, not Shopify, the bottleneck
(bench/webhook_burst.py). So `_round` (processing.py) hands each run of consecutive level
events of the claim here: their levels go through `inventory_levels_apply` together (newer-only
per level, so order within the run does not matter; the variant's sellable quantity is then
written once, restock detection included) and every event of the run is completed with one
UPDATE under the claim's token, in the same transaction. Runs keep the claim's order with the
other topics: a product created before its levels is mirrored first.

What the batch cannot settle goes back to one-at-a-time processing (`event_process`), which
owns every failure path: a payload that does not parse, an inventory item the mirror does not
hold (looked up through the Admin API there), a shop that is missing or uninstalled, and any
error while applying — the whole run is then rolled back and retried event by event, so one
bad event still fails alone. A lost lease rolls the run back too (nothing written over the next
holder's work).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Case, CharField, Value, When
from django.utils import timezone

from notifyme.catalog.rest import PayloadError, level_snapshot_from_rest
from notifyme.catalog.selectors import inventory_items_in_mirror
from notifyme.catalog.services import inventory_levels_apply
from notifyme.catalog.snapshots import LevelSnapshot
from notifyme.delivery import leasing
from notifyme.shops.models import Shop
from notifyme.webhooks.models import WebhookEvent

logger = logging.getLogger(__name__)

TOPIC = "inventory_levels/update"
MIN_RUN = 2  # a single event gains nothing from the batch


def batchable(event: WebhookEvent) -> bool:
    shop = event.shop
    return (event.topic == TOPIC and event.payload is not None and shop is not None
            and shop.state == Shop.State.INSTALLED)


class _Lost(Exception):
    """Some event of the run is no longer ours: roll the run back."""


def _parsed(events: Sequence[WebhookEvent]) -> dict[int, LevelSnapshot]:
    levels: dict[int, LevelSnapshot] = {}
    for event in events:
        try:
            levels[event.pk] = level_snapshot_from_rest(event.payload)
        except PayloadError:
            continue  # fails alone, with the field named, on the single path
    return levels


def _outcomes(events: Sequence[WebhookEvent], levels: dict[int, LevelSnapshot],
              described: dict[int, str]) -> dict[int, str]:
    """What each event did, in the words the single path uses: the stock change is told on
    the event whose level the mirror now holds (the newest of its item and location; the
    last delivered on a tie); the run's other events of that item changed nothing."""
    newest: dict[tuple[int, int], int] = {}
    for event in events:
        level = levels[event.pk]
        key = (level.inventory_item_id, level.location_id)
        held = newest.get(key)
        if held is None or _not_older(level, levels[held]):
            newest[key] = event.pk
    outcomes = {}
    for event in events:
        level = levels[event.pk]
        item = level.inventory_item_id
        told = newest[(item, level.location_id)] == event.pk and described.get(item)
        outcomes[event.pk] = (told or f"level of item {item} at location "
                              f"{level.location_id}: no stock change")[:500]
    return outcomes


def _not_older(level: LevelSnapshot, than: LevelSnapshot) -> bool:
    if level.updated_at is None or than.updated_at is None:
        return True
    return level.updated_at >= than.updated_at


def run_process(events: Sequence[WebhookEvent], token: str,
                counts: Counter[str]) -> list[WebhookEvent]:
    """Apply a run of batchable events of one shop (see module docstring); returns the
    events left for one-at-a-time processing, in claim order."""
    if len(events) < MIN_RUN:
        return list(events)
    shop = events[0].shop
    assert shop is not None  # batchable()
    levels = _parsed(events)
    known = inventory_items_in_mirror(
        shop=shop, inventory_item_ids=(level.inventory_item_id for level in levels.values()))
    batch = [e for e in events if e.pk in levels and levels[e.pk].inventory_item_id in known]
    if len(batch) < MIN_RUN:
        return list(events)
    try:
        with transaction.atomic():
            updates = inventory_levels_apply(shop=shop, levels=[levels[e.pk] for e in batch])
            described = {update.variant.inventory_item_id or 0: update.describe()
                         for update in updates}
            _complete(batch, token, _outcomes(batch, levels, described))
    except (OperationalError, InterfaceError):
        raise  # the database went away: the lease expires and the sweeper re-nudges
    except _Lost:
        counts["lost"] += len(batch)
    except Exception as error:
        logger.warning("webhook level batch of %s events (shop %s) failed (%s); processing "
                       "them one at a time", len(batch), shop.domain, type(error).__name__)
        return list(events)
    else:
        counts["processed"] += len(batch)
    done = {e.pk for e in batch}
    return [e for e in events if e.pk not in done]


def _complete(batch: Sequence[WebhookEvent], token: str, outcomes: dict[int, str]) -> None:
    ids = [event.pk for event in batch]
    outcome = Case(*(When(pk=pk, then=Value(text)) for pk, text in outcomes.items()),
                   output_field=CharField())
    held = leasing.complete(WebhookEvent, ids, token=token, state=WebhookEvent.State.PROCESSED,
                            outcome=outcome, processed_at=timezone.now(), last_error="")
    if held != len(ids):
        raise _Lost
