"""The one place a variant's stock changes: `variant_update_stock`.

It locks the variant row, writes the new quantity and fires `hooks.stock_changed` in the same
transaction, so what other apps do about the change (the restocks app starts a restock when a
sold-out variant comes back) is written with it or not at all, and two concurrent updates of one
variant are seen one after the other. Webhooks (through `inventory.inventory_levels_apply` and
`mirror.product_apply`), the support admin and `manage.py restock` all end here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from django.db import transaction

from notifyme.catalog import hooks
from notifyme.catalog.hooks import StockChange, StockReaction
from notifyme.catalog.models import Variant

#: The quantity a simulated restock brings back (at least: see `hooks.restock_quantity`).
SIMULATED_QUANTITY = 10

R = TypeVar("R")


@dataclass(frozen=True)
class StockUpdate:
    """A stock write and what the apps registered on `hooks.stock_changed` did about it."""

    variant: Variant
    previous_quantity: int
    quantity: int
    reactions: tuple[StockReaction, ...] = ()

    def describe(self) -> str:
        """One line for people: the reactions' sentences, or the change itself."""
        if self.reactions:
            return "; ".join(reaction.describe() for reaction in self.reactions)
        return f"stock {self.previous_quantity} → {self.quantity}"

    @property
    def acted(self) -> bool:
        """Did any registered app start something because of this change?"""
        return any(reaction.acted for reaction in self.reactions)

    def reaction(self, kind: type[R]) -> R | None:
        """The first reaction of type `kind`, if a callback made one."""
        return next((r for r in self.reactions if isinstance(r, kind)), None)


def variant_update_stock(
    *,
    variant: Variant,
    quantity: int,
    inventory_tracked: bool | None = None,
    inventory_policy: str | None = None,
) -> StockUpdate:
    """Mirror a new sellable quantity (and, when given, tracking and policy); tell the apps.

    One transaction: the variant row is locked, updated, and `hooks.stock_changed` runs with
    the locked row before the commit. The caller's instance gets the new quantity.
    """
    with transaction.atomic():
        locked = Variant.objects.select_for_update().select_related("shop", "product").get(
            pk=variant.pk
        )
        previous = locked.available_quantity
        locked.available_quantity = quantity
        fields = ["available_quantity", "updated_at"]
        if inventory_tracked is not None:
            locked.inventory_tracked = inventory_tracked
            fields.append("inventory_tracked")
        if inventory_policy is not None:
            locked.inventory_policy = inventory_policy
            fields.append("inventory_policy")
        locked.save(update_fields=fields)
        change = StockChange(variant=locked, previous_quantity=previous, quantity=quantity)
        reactions = hooks.stock_reactions(change=change)
    variant.available_quantity = quantity
    return StockUpdate(locked, previous, quantity, reactions)


def variant_simulate_restock(*, variant: Variant) -> StockUpdate:
    """Support's test of the whole path: sell the variant out, then bring back
    `SIMULATED_QUANTITY` (or whatever the registered apps count as a restock, if more).
    Returns the second update."""
    variant_update_stock(variant=variant, quantity=0)
    quantity = hooks.restock_quantity(shop=variant.shop, at_least=SIMULATED_QUANTITY)
    return variant_update_stock(variant=variant, quantity=quantity)
