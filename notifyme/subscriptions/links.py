"""Links put in front of shoppers (alerts, Klaviyo profile properties)."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

from django.conf import settings
from django.urls import reverse

from notifyme.subscriptions.models import Subscription

URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def unsubscribe_url(*, subscription: Subscription, base_url: str) -> str:
    """The one-click-to-confirm unsubscribe link: `<base_url>/proxy/unsubscribe?token=...`.

    `base_url` is the app's public origin (e.g. `https://notifyme.example.com`); the token alone
    authorises a direct visit (see docs/storefront-api.md).
    """
    path = reverse("subscriptions:unsubscribe")
    query = urlencode({"token": subscription.unsubscribe_token})
    return f"{base_url.rstrip('/')}{path}?{query}"


def storefront_unsubscribe_url(*, subscription: Subscription) -> str:
    """The same page on the shop's own domain, through Shopify's app proxy:
    `https://<shop>.myshopify.com/apps/notifyme/unsubscribe?token=...` (signed by Shopify on the
    way in; Shopify redirects to the shop's primary domain). Needs no public URL of the app, so
    it can go into every "Subscribed to Back in Stock" event for the merchant's Klaviyo emails.
    """
    token = subscription.unsubscribe_token
    if not URL_SAFE.fullmatch(token):  # tokens are made URL-safe; quote anything else
        token = quote(token, safe="")
    return (f"https://{subscription.shop.domain}{settings.SHOPIFY_APP_PROXY_PATH}/unsubscribe"
            f"?token={token}")
