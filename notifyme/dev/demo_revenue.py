"""Demo history for the Revenue page: two past restocks of the demo shop whose alerts were
sent, and the orders that followed, attributed by the same service as a real `orders/create`
(`notifyme.revenue.services.order_record`, fed Shopify-shaped order payloads).

The restocks are history (completed days ago, the variants sold out again since), so the demo
catalog and its storefront cases are unchanged. Idempotent: keyed on the demo order ids.
Development only (the dev tools app; `manage.py demo_revenue`, run by `make run`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from notifyme.catalog.models import Variant
from notifyme.restocks.events import event_properties
from notifyme.restocks.models import Restock, RestockDelivery, delivery_unique_id
from notifyme.revenue.models import RecoveredOrder
from notifyme.revenue.services import order_record
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription

TOTE_NAVY = 45_120_000_000_032
SOCKS_OAT = 45_120_000_000_022
ORDER_BASE = 5_400_000_000_000


@dataclass(frozen=True)
class DemoOrder:
    number: int
    shopper: str
    variant: int
    quantity: int
    after: timedelta  # after the alert
    through_link: bool


# (variant, days ago the alert went out, shoppers alerted)
DEMO_RESTOCKS = ((TOTE_NAVY, 4, ("maya", "liam", "ava", "noah")),
                 (SOCKS_OAT, 20, ("maya", "zoe", "omar")))
DEMO_ORDERS = (
    DemoOrder(1, "maya", TOTE_NAVY, 1, timedelta(hours=2), True),
    DemoOrder(2, "liam", TOTE_NAVY, 1, timedelta(days=2), False),
    DemoOrder(3, "zoe", SOCKS_OAT, 3, timedelta(hours=20), True),
    DemoOrder(4, "omar", SOCKS_OAT, 2, timedelta(days=10), False),  # outside 7 days
)


def _email(name: str) -> str:
    return f"{name}.demo@example.com"


def _restock(shop: Shop, variant: Variant, sent_at: datetime, shoppers: tuple[str, ...]
             ) -> Restock:
    restock = Restock.objects.create(
        shop=shop, variant=variant, quantity=len(shoppers) + 2, send_mode="all_at_once",
        state=Restock.State.COMPLETED, total=len(shoppers), sent=len(shoppers),
        started_at=sent_at - timedelta(minutes=1), finished_at=sent_at, completed_at=sent_at,
        materialised=len(shoppers), materialised_at=sent_at)
    for position, name in enumerate(shoppers, 1):
        sub = Subscription.objects.create(
            shop=shop, variant=variant, email=_email(name), email_display=_email(name),
            notify_by_email=True, source=Subscription.Source.DEMO,
            status=Subscription.Status.NOTIFIED, notified_at=sent_at,
            sync_state=Subscription.SyncState.SYNCED, synced_at=sent_at)
        RestockDelivery.objects.create(
            restock=restock, subscription=sub, position=position,
            state=RestockDelivery.State.SENT, sent_at=sent_at, available_at=sent_at,
            unique_id=delivery_unique_id(restock.pk, sub.pk))
    return restock


def _payload(shop: Shop, order: DemoOrder, variant: Variant, restock: Restock,
             at: datetime) -> dict[str, Any]:
    order_id = ORDER_BASE + order.number
    landing = str(event_properties(restock)["product_url"]) if order.through_link else "/"
    price = f"{variant.price:.2f}"
    return {"id": order_id, "name": f"#D{order.number}", "created_at": at.isoformat(),
            "currency": shop.currency, "email": _email(order.shopper),
            "landing_site": landing.removeprefix(f"https://{shop.domain}"),
            "line_items": [{"id": order_id * 10, "variant_id": variant.shopify_id,
                            "quantity": order.quantity, "price": price}]}


@transaction.atomic
def demo_revenue_load(*, shop: Shop) -> list[str]:
    """Write the demo history once; returns the attribution outcomes (empty when it exists)."""
    if RecoveredOrder.objects.filter(shop=shop, shopify_id=ORDER_BASE + 1).exists():
        return []
    now = timezone.now()
    restocks: dict[int, tuple[Restock, datetime]] = {}
    for variant_id, days_ago, shoppers in DEMO_RESTOCKS:
        variant = Variant.objects.select_related("product").get(shop=shop, shopify_id=variant_id)
        sent_at = now - timedelta(days=days_ago)
        restocks[variant_id] = (_restock(shop, variant, sent_at, shoppers), sent_at)
    outcomes = []
    for order in DEMO_ORDERS:
        restock, sent_at = restocks[order.variant]
        payload = _payload(shop, order, restock.variant, restock, sent_at + order.after)
        outcomes.append(order_record(shop=shop, payload=payload))
    return outcomes
