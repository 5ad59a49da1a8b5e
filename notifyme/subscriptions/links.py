"""Links put in front of shoppers (alerts, Klaviyo profile properties)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse

from notifyme.subscriptions.models import Subscription


def unsubscribe_url(*, subscription: Subscription, base_url: str) -> str:
    """The one-click-to-confirm unsubscribe link: `<base_url>/proxy/unsubscribe?token=...`.

    `base_url` is the app's public origin (e.g. `https://notifyme.example.com`); the token alone
    authorises a direct visit (see docs/storefront-api.md).
    """
    path = reverse("subscriptions:unsubscribe")
    query = urlencode({"token": subscription.unsubscribe_token})
    return f"{base_url.rstrip('/')}{path}?{query}"
