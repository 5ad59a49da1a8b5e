"""What other apps do when the catalog mirror changes, without the catalog importing them.

- `stock_changed`: fired by `services.variant_update_stock` inside the transaction that wrote
  the new quantity, with the variant row still locked, so whatever a callback writes (the
  restocks app starts a restock) commits with the stock write or not at all; a callback that
  raises rolls the stock write back. A callback returns a `StockReaction` (what it did, for
  the admin and `manage.py restock`) or None.
- `restock_threshold`: the lowest quantity a callback counts as "back in stock" for a shop
  (the support admin's simulated restock sets at least that much).
- `awaited_variants`: the ids of a shop's variants someone is waiting for (reconciliation
  re-reads only their stock from Shopify).

The restocks app registers the first two in its `AppConfig.ready()`, the subscriptions app the
third.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from notifyme.catalog.models import Variant
from notifyme.core.hooks import Hook
from notifyme.shops.models import Shop


@dataclass(frozen=True)
class StockChange:
    """A written stock change: `variant` is the locked row, with its shop and product."""

    variant: Variant
    previous_quantity: int
    quantity: int


class StockReaction(Protocol):
    """What a callback did about a stock change (or why it did nothing), in one sentence."""

    @property
    def acted(self) -> bool:
        """Did the callback start something (False: it only explains why not)?"""
        ...

    def describe(self) -> str: ...


class StockChangedCallback(Protocol):
    def __call__(self, *, change: StockChange) -> StockReaction | None: ...


class RestockThresholdCallback(Protocol):
    def __call__(self, *, shop: Shop) -> int: ...


class AwaitedVariantsCallback(Protocol):
    def __call__(self, *, shop: Shop) -> Iterable[int]: ...


stock_changed: Hook[StockChangedCallback] = Hook("catalog.stock_changed")
restock_threshold: Hook[RestockThresholdCallback] = Hook("catalog.restock_threshold")
awaited_variants: Hook[AwaitedVariantsCallback] = Hook("catalog.awaited_variants")


def on_stock_changed(callback: StockChangedCallback) -> StockChangedCallback:
    """Register `callback(change=...)`, run inside every stock write's transaction."""
    return stock_changed.register(callback)


def on_restock_threshold(callback: RestockThresholdCallback) -> RestockThresholdCallback:
    """Register `callback(shop=...) -> int`, the quantity that counts as back in stock."""
    return restock_threshold.register(callback)


def stock_reactions(*, change: StockChange) -> tuple[StockReaction, ...]:
    """Fire `stock_changed`; the reactions of the callbacks that reacted, in order."""
    return tuple(r for r in stock_changed.fire(change=change) if r is not None)


def restock_quantity(*, shop: Shop, at_least: int) -> int:
    """`at_least`, or more if a registered app needs more to count a restock."""
    return max([at_least, *restock_threshold.fire(shop=shop)])


def on_awaited_variants(callback: AwaitedVariantsCallback) -> AwaitedVariantsCallback:
    """Register `callback(shop=...) -> variant ids` someone waits for."""
    return awaited_variants.register(callback)


def variants_awaited(*, shop: Shop) -> set[int]:
    """The variant ids (our pks) of `shop` that any registered app says someone waits for."""
    return {pk for found in awaited_variants.fire(shop=shop) for pk in found}
