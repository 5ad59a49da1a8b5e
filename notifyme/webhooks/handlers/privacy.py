"""Shopify's mandatory compliance topics (platform notes §4), thin calls into
`notifyme.privacy.services`:

- `customers/data_request` → `customer_data_request`: the report for the merchant;
- `customers/redact` → `customer_redact`: the shopper erased here, Klaviyo erasure queued;
- `shop/redact` → `shop_redact`: everything of the shop erased but the audit.

A shop we have no row for is not ignored: the request still gets its audit row (Shopify must
see the request answered, and a `shop/redact` usually comes after the shop's data is gone).
A payload that names no shopper fails the event with the field (`PayloadError`), visibly for
support. The webhook job clears these topics' payloads once processed (`PERSONAL_TOPICS`).
"""

from __future__ import annotations

from notifyme.privacy import services
from notifyme.webhooks.context import WebhookContext
from notifyme.webhooks.models import WebhookEvent


def customers_data_request(ctx: WebhookContext) -> str:
    return services.customer_data_request(shop=ctx.shop, payload=ctx.payload)


def customers_redact(ctx: WebhookContext) -> str:
    return services.customer_redact(shop=ctx.shop, payload=ctx.payload)


def shop_redact(ctx: WebhookContext) -> str:
    """Also drops the shop's other finished webhook events (the delivery log: the shop is
    gone); this event stays as the record of the request until pruned, and pending ones are
    processed (as for an unknown shop) and pruned like any other."""
    outcome = services.shop_redact(shop_domain=ctx.shop_domain, payload=ctx.payload)
    dropped = WebhookEvent.objects.filter(shop_domain=ctx.shop_domain).exclude(
        pk=ctx.event.pk).exclude(state=WebhookEvent.State.PENDING).delete()[0]
    return f"{outcome}; {dropped} webhook log rows dropped"
