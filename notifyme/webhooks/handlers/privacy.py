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


def customers_data_request(ctx: WebhookContext) -> str:
    return services.customer_data_request(shop=ctx.shop, payload=ctx.payload)


def customers_redact(ctx: WebhookContext) -> str:
    return services.customer_redact(shop=ctx.shop, payload=ctx.payload)


def shop_redact(ctx: WebhookContext) -> str:
    return services.shop_redact(shop_domain=ctx.shop_domain, payload=ctx.payload)
