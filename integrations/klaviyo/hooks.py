"""What the apps above this integration do when a shop's Klaviyo connection changes state.

The integration knows no domain: a domain that must act when a connection becomes syncing
again (the subscriber backlog, halted restock fan-outs) registers a callback in its
`AppConfig.ready()`:

    klaviyo_hooks.on_connection_resumed(sync_nudge)   # called as sync_nudge(shop_id=...)

The services fire the hook once the transaction that made the connection CONNECTED commits.
Every callback runs even if another fails; all of them are best effort (the sweeper finds
whatever a lost nudge leaves behind).
"""

from __future__ import annotations

from typing import Protocol

from django.db import transaction

from notifyme.core.hooks import Hook


class ConnectionResumedCallback(Protocol):
    def __call__(self, *, shop_id: int) -> object: ...


connection_resumed: Hook[ConnectionResumedCallback] = Hook("klaviyo.connection_resumed")


def on_connection_resumed(callback: ConnectionResumedCallback) -> ConnectionResumedCallback:
    """Register `callback(shop_id=...)` to run after a shop's connection becomes syncing."""
    return connection_resumed.register(callback)


def connection_resumed_on_commit(*, shop_id: int) -> None:
    """Fire `connection_resumed` for this shop once the current transaction commits."""
    transaction.on_commit(lambda: connection_resumed.fire_each(shop_id=shop_id))
