"""Lifecycle hooks: what other apps do when a subscription is written, without subscriptions
importing them.

`services.py` fires `subscription_changed` inside the transaction that writes the subscription,
so whatever a callback writes (the sync engine's outbox row) commits or rolls back with it; a
callback that raises rolls the subscription write back too. Work that must wait for the commit
(a nudge to a worker) is the callback's to schedule with `transaction.on_commit`. The sync app
registers its callback in `AppConfig.ready()`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from notifyme.core.hooks import Hook
from notifyme.subscriptions.models import Subscription


class Lifecycle(StrEnum):
    """What happened to the subscription."""

    CREATED = "created"  # a new active subscription
    CHANGED = "changed"  # its data must be sent again (support re-queued it)
    WITHDRAWN = "withdrawn"  # the shopper cancelled the alert
    ERASED = "erased"  # personal data erased (privacy request)


class LifecycleCallback(Protocol):
    def __call__(self, *, subscription: Subscription, event: Lifecycle) -> object: ...


lifecycle: Hook[LifecycleCallback] = Hook("subscriptions.lifecycle")


def on_lifecycle(callback: LifecycleCallback) -> LifecycleCallback:
    """Register `callback(subscription=..., event=...)` for every lifecycle event."""
    return lifecycle.register(callback)


def subscription_changed(*, subscription: Subscription, event: Lifecycle) -> None:
    """Tell every registered app; call inside the transaction that wrote `subscription`."""
    lifecycle.fire(subscription=subscription, event=event)
