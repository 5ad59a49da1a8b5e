"""`app/uninstalled`: the merchant removed the app (platform notes §4).

The body is the Shop resource; the access token is already revoked. `shop_uninstall` marks the
shop uninstalled (its hook stops syncs and restocks; the tokens are forgotten) and keeps the
subscribers until `shop/redact`. Idempotent: a redelivery, or an uninstall already recorded,
changes nothing.
"""

from __future__ import annotations

from notifyme.shops.services import shop_uninstall
from notifyme.webhooks.context import EventIgnored, WebhookContext


def app_uninstalled(ctx: WebhookContext) -> str:
    if ctx.shop is None:
        raise EventIgnored("no such shop here: nothing to uninstall")
    if shop_uninstall(shop=ctx.shop):
        return "shop marked uninstalled"
    return "already uninstalled"
