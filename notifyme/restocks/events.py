"""Back in Stock event bodies: one event per claimed delivery, as Klaviyo's bulk-create expects.

Properties are the same for every subscriber of a restock (the product facts of
`notifyme.catalog.facts` plus the restock's own), so they are built once per job and shared by
all its events (no per-row work beyond the profile block). The profile block carries only
identifiers: email, phone_number (already E.164 in our rows) and external_id (the Shopify
customer id when known) — the profile itself is kept up to date by the subscriber sync.
The event's `product_url` is the alert's link (`links.alert_url`: tagged with the restock's UTM
parameters), so an order placed through it counts as direct recovered revenue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from integrations.klaviyo.client import BACK_IN_STOCK_METRIC, BulkEvent
from notifyme.catalog.facts import product_facts
from notifyme.restocks.links import alert_url
from notifyme.restocks.models import Restock

METRIC = BACK_IN_STOCK_METRIC  # exactly "Back in Stock": merchants' flows trigger on it


@dataclass(frozen=True)
class DeliveryRow:
    """What one claimed delivery needs to become an event (read with one joined query)."""

    id: int
    unique_id: str
    subscription_id: int
    email: str
    phone: str
    customer_id: int | None
    status: str
    attempts: int
    position: int


def event_properties(restock: Restock) -> dict[str, Any]:
    """Product details for the merchant's flow template (same dict for the whole restock);
    `product_url` carries the alert's UTM tag (`links.alert_url`)."""
    facts = product_facts(restock.variant, restock.shop)
    facts["product_url"] = alert_url(str(facts["product_url"]), restock_id=restock.pk)
    return {**facts, "quantity_available": restock.quantity, "restock_id": restock.pk}


def profile_block(row: DeliveryRow) -> dict[str, Any]:
    profile: dict[str, Any] = {}
    if row.email:
        profile["email"] = row.email
    if row.phone:
        profile["phone_number"] = row.phone
    if row.customer_id:
        profile["external_id"] = str(row.customer_id)
    return profile


def build_events(
    rows: Iterable[DeliveryRow], properties: dict[str, Any]
) -> tuple[list[BulkEvent], list[DeliveryRow], list[DeliveryRow]]:
    """(events, rows they were built from in the same order, rows with no identifier left).

    A `unique_id` repeated inside one bulk request makes Klaviyo reject the whole request, so
    repeats are dropped here (they cannot happen with one row per restock and subscription, but
    the request must never depend on that).
    """
    events: list[BulkEvent] = []
    sent_rows: list[DeliveryRow] = []
    unusable: list[DeliveryRow] = []
    seen: set[str] = set()
    for row in rows:
        if row.unique_id in seen:
            continue
        profile = profile_block(row)
        if not profile:
            unusable.append(row)
            continue
        seen.add(row.unique_id)
        events.append(BulkEvent(METRIC, profile, properties, row.unique_id))
        sent_rows.append(row)
    return events, sent_rows, unusable

