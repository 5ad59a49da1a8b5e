"""What other apps do when a shop uninstalls or reinstalls the app, without shops importing them.

- `shop_uninstalled`: fired by `services.shop_uninstall` inside its transaction, with the shop
  row locked and already marked uninstalled (its tokens cleared), so whatever a callback writes
  (the restocks app cancels running restocks) commits with the uninstall or not at all. A
  callback returns a one-line description of what it stopped (for the webhook's outcome line)
  or None. Work rows are not deleted: the workers refuse an uninstalled shop's work (the sync
  engine and the restock fan-out check `Shop.state`), so held rows wait for a reinstall or for
  `shop/redact`, which erases them. Subscribers are kept until `shop/redact`.
- `shop_reinstalled`: fired by `services.shop_install` when an uninstalled shop installs again,
  in its transaction; callbacks schedule whatever held work may resume (on commit).

- `shop_installed`: fired by `notifyme.shops.install` once Shopify granted tokens for a new
  install, a reinstall or a re-authorization, in the transaction that stored them; callbacks
  start what a fresh grant needs (the catalog app queues the initial catalog sync, on commit).

Registered in the sync, restocks and catalog apps' `AppConfig.ready()`.
"""

from __future__ import annotations

from typing import Protocol

from notifyme.core.hooks import Hook
from notifyme.shops.models import Shop


class ShopCallback(Protocol):
    def __call__(self, *, shop: Shop) -> str | None: ...


shop_uninstalled: Hook[ShopCallback] = Hook("shops.shop_uninstalled")
shop_reinstalled: Hook[ShopCallback] = Hook("shops.shop_reinstalled")
shop_installed: Hook[ShopCallback] = Hook("shops.shop_installed")


def on_uninstalled(callback: ShopCallback) -> ShopCallback:
    """Register `callback(shop=...)`, run inside every uninstall's transaction."""
    return shop_uninstalled.register(callback)


def on_reinstalled(callback: ShopCallback) -> ShopCallback:
    """Register `callback(shop=...)`, run inside the transaction of a reinstall."""
    return shop_reinstalled.register(callback)


def on_installed(callback: ShopCallback) -> ShopCallback:
    """Register `callback(shop=...)`, run in the transaction that stored a fresh grant."""
    return shop_installed.register(callback)


def install_reactions(*, shop: Shop) -> tuple[str, ...]:
    """Fire `shop_installed`; the descriptions of what the callbacks started, in order."""
    return tuple(r for r in shop_installed.fire(shop=shop) if r)


def uninstall_reactions(*, shop: Shop) -> tuple[str, ...]:
    """Fire `shop_uninstalled`; the descriptions of what the callbacks stopped, in order."""
    return tuple(r for r in shop_uninstalled.fire(shop=shop) if r)


def reinstall_reactions(*, shop: Shop) -> tuple[str, ...]:
    """Fire `shop_reinstalled`; the descriptions of what the callbacks resumed, in order."""
    return tuple(r for r in shop_reinstalled.fire(shop=shop) if r)
