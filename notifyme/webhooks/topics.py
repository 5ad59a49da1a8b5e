"""Which handler processes which webhook topic: the one table the job dispatches through.

`TOPICS: dict[str, TopicHandler]` (contract in `notifyme.webhooks.context`). Every topic here
must be subscribed in `shopify.app.toml` and every subscribed topic must be here
(`tests/webhooks/test_app_toml.py`). The intake stores a topic missing from this table as
`ignored` (metadata only) and answers 200.

Rows by owner: webhooks — `app/uninstalled`; catalog — `products/create|update|delete`,
`inventory_levels/update` (`handlers/catalog.py`); privacy — `customers/data_request`,
`customers/redact`, `shop/redact` (`handlers/privacy.py`); revenue — `orders/create`,
`orders/cancelled` (`handlers/orders.py`).
"""

from __future__ import annotations

# The contract names first (handler modules may import them from here or from .context).
from notifyme.webhooks.context import EventIgnored, RetryLater, TopicHandler, WebhookContext
from notifyme.webhooks.handlers import catalog, orders, privacy, shops

__all__ = ["TOPICS", "EventIgnored", "RetryLater", "TopicHandler", "WebhookContext"]

TOPICS: dict[str, TopicHandler] = {
    "app/uninstalled": shops.app_uninstalled,
    "products/create": catalog.product_changed,
    "products/update": catalog.product_changed,
    "products/delete": catalog.product_deleted,
    "inventory_levels/update": catalog.inventory_level_changed,
    "customers/data_request": privacy.customers_data_request,
    "customers/redact": privacy.customers_redact,
    "shop/redact": privacy.shop_redact,
    "orders/create": orders.order_created,
    "orders/cancelled": orders.order_cancelled,
}
