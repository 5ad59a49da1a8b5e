"""RQ entry point of webhook processing (thin: a shop domain in, one service call).

Enqueued by `notifyme.webhooks.lanes` (by path, coalesced per shop, on the `sync` lane). Jobs
carry the shop's myshopify domain — never a payload or a secret — and are idempotent: the
`WebhookEvent` rows say what is left, so a job run twice, or never (the sweeper re-nudges),
changes nothing but timing. The worker imports this module before its first job
(`registry.Handler.warm_up`), and with it every topic handler.
"""

from __future__ import annotations

from typing import Any

from django.db import close_old_connections

from notifyme.webhooks.processing import process_shop


def process_shop_events(shop_domain: str) -> dict[str, Any]:
    """Process the shop's due webhook events (`notifyme.webhooks.processing.process_shop`)."""
    close_old_connections()
    try:
        return process_shop(shop_domain)
    finally:
        close_old_connections()
