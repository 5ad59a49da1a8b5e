"""`orders/create`: an order is attributed to the back-in-stock alerts it followed;
`orders/cancelled`: a recovered order that was cancelled stops counting.

Thin: the payload goes to `notifyme.revenue.services.order_record` (idempotent: a redelivery
or a second delivery of one order counts it once). An unreadable payload fails the event with
the field (`OrderPayloadError`). The topic carries personal data (the shopper's contact,
addresses), so its payload is cleared once processed (`processing.PERSONAL_TOPICS`) and
nothing personal goes into the outcome line. An order of an uninstalled shop is ignored.
"""

from __future__ import annotations

from notifyme.revenue.services import order_cancel, order_record
from notifyme.shops.models import Shop
from notifyme.webhooks.context import EventIgnored, WebhookContext


def _shop(ctx: WebhookContext) -> Shop:
    if ctx.shop is None:
        raise EventIgnored("no such shop here")
    if ctx.shop.state != Shop.State.INSTALLED:
        raise EventIgnored("the shop is uninstalled")
    return ctx.shop


def order_created(ctx: WebhookContext) -> str:
    return order_record(shop=_shop(ctx), payload=ctx.payload)


def order_cancelled(ctx: WebhookContext) -> str:
    """`orders/cancelled`: a recovered order stops counting."""
    return order_cancel(shop=_shop(ctx), payload=ctx.payload)
