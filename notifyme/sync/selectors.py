"""Reads that join the Klaviyo connection and the subscribers it syncs."""

from __future__ import annotations

from typing import Any

from integrations.klaviyo.selectors import connection_status
from notifyme.shops.models import Shop
from notifyme.subscriptions.selectors import subscription_sync_counts


def sync_status(*, shop: Shop, iso: bool = True) -> dict[str, Any]:
    """The status document of `GET /app/api/klaviyo` and the settings page: the connection's
    status (`connection_status`, same `iso` switch) plus `subscribers` — how many wait to sync,
    are synced, failed."""
    document = connection_status(shop=shop, iso=iso)
    document["subscribers"] = subscription_sync_counts(shop=shop)
    return document
