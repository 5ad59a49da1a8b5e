"""Restock fixtures: a shop connected to a fresh sandbox account, subscribers in bulk, a drain."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.services import connection_connect
from notifyme.catalog.models import Variant
from notifyme.delivery.outcome import Outcome
from notifyme.restocks.fanout import fanout_send_chunk
from notifyme.restocks.materialise import materialise_run
from notifyme.restocks.models import Restock, RestockDelivery, RestockSettings
from notifyme.restocks.services import restock_settings_update
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from tests.factories import subscriptions_bulk_make
from tests.fixtures.shopify import make_shop, make_variant


@dataclass
class Connected:
    shop: Shop
    variant: Variant
    account_id: str
    key: str
    connection: KlaviyoConnection


def connect(sandbox: Any, shop: Shop, name: str = "Restock Store") -> tuple[str, str]:
    account, key = sandbox.new_account(name)
    connection_connect(shop=shop, private_key=key)
    return account["id"], key


@pytest.fixture
def connected(klaviyo_sandbox: Any, db: None) -> Connected:
    """A shop, a sold-out variant and a CONNECTED Klaviyo connection to its own account."""
    shop = make_shop()
    variant = make_variant(shop, shopify_id=4001, quantity=0)
    account_id, key = connect(klaviyo_sandbox, shop)
    return Connected(shop, variant, account_id, key, shop.klaviyo_connection)


def add_subscribers(
    shop: Shop, variant: Variant, count: int, *, prefix: str = "s", start: int = 0,
    phone_every: int = 0, consent_every: int = 2,
) -> list[Subscription]:
    """`count` signups as the storefront writes them (tests/factories.py), oldest first."""
    return subscriptions_bulk_make(
        shop, variant, count, start=start, prefix=prefix, domain="example.com",
        phone_every=phone_every, consent_every=consent_every, source=Subscription.Source.DEMO)


def set_settings(shop: Shop, **fields: Any) -> RestockSettings:
    """The shop's restock settings changed as support changes them (`restock_settings_update`)."""
    return restock_settings_update(shop=shop, **fields)


def materialise_all(restock: Restock) -> Restock:
    """Write every delivery row of a restock that started with its first chunk, in this
    process — what the workers' materialise job does (`notifyme.restocks.materialise`)."""
    materialise_run(restock_id=restock.pk, seconds=600)
    restock.refresh_from_db()
    return restock


def drain(restock: Restock, *, max_rounds: int = 300, max_wait: float = 15.0,
          materialise: bool = True) -> list[Outcome]:
    """Run fan-out steps in this process until no released delivery is pending (waiting out
    retries and cool-downs for real, up to `max_wait` seconds) or the connection halts — after
    writing the restock's remaining rows first, as the workers would (`materialise=False`: the
    fan-out alone, catching up with a materialiser that is not running)."""
    if materialise:
        materialise_all(restock)
    results: list[Outcome] = []
    deadline = time.monotonic() + max_wait
    released = RestockDelivery.objects.filter(
        restock=restock, state=RestockDelivery.State.PENDING, available_at__isnull=False)
    for _ in range(max_rounds):
        result = fanout_send_chunk(restock_id=restock.pk)
        results.append(result)
        if result.halted or time.monotonic() > deadline:
            break
        if result.claimed == 0 and not released.exists():
            break
        if result.released or result.wait > 0 or result.claimed == 0:
            time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
    restock.refresh_from_db()
    return results


@pytest.fixture
def subscribers() -> Callable[..., list[Subscription]]:
    return add_subscribers


def event_ids(sandbox: Any, account_id: str) -> list[str]:
    return [e["unique_id"] for e in sandbox.admin.events(account_id, metric="Back in Stock")]
