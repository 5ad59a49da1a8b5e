"""Writes of the Subscribers page that are not imports: removing a subscriber."""

from __future__ import annotations

from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_unsubscribe
from notifyme.waitlists.selectors import subscriber_get


def subscriber_remove(*, shop: Shop, subscription_id: int) -> tuple[Subscription | None, bool]:
    """Cancel one of the shop's alerts as the shopper's own unsubscribe link does; return
    `(subscription, changed)`, `(None, False)` when the id is not the shop's.

    `subscription_unsubscribe` (marketing consent untouched): the outbox row takes the shopper
    off the merchant's Klaviyo list once no alert of theirs is left at the shop. Removing an
    already cancelled or redacted subscriber changes nothing.
    """
    subscription = subscriber_get(shop=shop, subscription_id=subscription_id)
    if subscription is None:
        return None, False
    changed = subscription_unsubscribe(subscription=subscription)
    return subscription, changed
