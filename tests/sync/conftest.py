"""Sync-engine fixtures: a connected shop on a fresh sandbox account, bulk subscribers, drain().

Jobs run in-process (`engine.run_shop`), so tests see every row change directly; the chaos tests
start real workers instead (tests/sync/workers.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Max, QuerySet
from django.utils import timezone

from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt
from notifyme.catalog.models import Variant
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.sync import engine
from notifyme.sync.models import OutboxItem
from tests.factories import klaviyo_connect, subscriptions_bulk_make
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import make_shop, make_variant


@dataclass
class Merchant:
    """A shop connected to its own sandbox account (through `connection_connect`).

    Connecting verifies the key and finds or creates the list, which makes Klaviyo calls of its
    own: `attempts()` and `requests()` are what happened after the connect, so a test about the
    sync sees exactly the sync's calls."""

    shop: Shop
    variant: Variant
    connection: KlaviyoConnection
    account_id: str
    key: str
    list_id: str
    sandbox: SandboxHandle
    connect_attempts: int = 0  #: SyncAttempt rows up to the connect (the highest id)
    connect_requests: int = 0  #: sandbox requests the connect made

    @property
    def admin(self) -> Any:
        return self.sandbox.admin

    def stats(self) -> dict[str, Any]:
        return self.admin.stats(self.account_id)

    def members(self) -> list[str]:
        return self.admin.list_members(self.account_id, self.list_id)

    def attempts(self) -> QuerySet[SyncAttempt]:
        """This shop's call log since it connected."""
        return SyncAttempt.objects.filter(shop=self.shop, id__gt=self.connect_attempts)

    def requests(self) -> list[dict[str, Any]]:
        """The requests the sandbox account received since the connect."""
        return self.admin.requests(self.account_id)[self.connect_requests:]


def connect(shop: Shop, sandbox: SandboxHandle, *, scopes: list[str] | str = "all"
            ) -> tuple[KlaviyoConnection, str, str, str]:
    """Connect the way the merchant does: a new account, its key verified by
    `connection_connect`, which creates the "Back in Stock" list."""
    connected = klaviyo_connect(shop, sandbox, scopes=scopes)
    return connected.connection, connected.account_id, connected.key, connected.list_id


def make_merchant(sandbox: SandboxHandle, domain: str = "demo-shop.myshopify.com",
                  shopify_variant: int = 4001) -> Merchant:
    shop = make_shop(domain)
    variant = make_variant(shop, shopify_id=shopify_variant, product_id=shopify_variant + 5000)
    connection, account_id, key, list_id = connect(shop, sandbox)
    last = SyncAttempt.objects.filter(shop=shop).aggregate(last=Max("id"))["last"] or 0
    return Merchant(shop, variant, connection, account_id, key, list_id, sandbox,
                    connect_attempts=last,
                    connect_requests=len(sandbox.admin.requests(account_id)))


@pytest.fixture
def merchant(db: None, klaviyo_sandbox: SandboxHandle) -> Merchant:
    return make_merchant(klaviyo_sandbox)


def add_subscribers(
    merchant: Merchant, count: int, *, consent: bool = False, phone: bool = False,
    start: int = 0, age: timedelta | None = None,
) -> list[Subscription]:
    """`count` storefront signups (`tests.factories.subscriptions_bulk_make`: the state
    `subscription_create` writes, in bulk). `consent` ticks the box of every channel given
    (email, and SMS with `phone`). `age` moves the signups (and their consent) into the past."""
    every = 1 if consent else 0
    subs = subscriptions_bulk_make(
        merchant.shop, merchant.variant, count, start=start, first_name="Ann", locale="en-US",
        phone_every=1 if phone else 0, consent_every=every, sms_consent_every=every)
    if age:
        # By hand: no service signs up in the past; only the clock is rewound.
        then = timezone.now() - age
        Subscription.objects.filter(pk__in=[s.pk for s in subs]).update(
            created_at=then, consented_at=then if consent else None,
            sms_consented_at=then if consent and phone else None)
        for sub in subs:
            sub.created_at = then
            sub.consented_at = then if consent else None
            sub.sms_consented_at = then if consent and phone else None
    return subs


def drain(shop_id: int, *, lane: str = "bulk", timeout: float = 60.0,
          until: Callable[[], bool] | None = None) -> list[dict[str, Any]]:
    """Run jobs in-process until nothing is pending/waiting (or `until()`), sleeping through
    rate-limit waits and import polls the way delayed nudges would. Bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    summaries: list[dict[str, Any]] = []
    open_states = [OutboxItem.State.PENDING, OutboxItem.State.WAITING]
    while time.monotonic() < deadline:
        summaries.append(engine.run_shop(shop_id, lane))
        if until is not None and until():
            return summaries
        left = OutboxItem.objects.filter(shop_id=shop_id, state__in=open_states)
        if not left.exists() or summaries[-1].get("halted") or "skipped" in summaries[-1]:
            return summaries
        nxt = min([t for t in left.values_list("available_at", flat=True)] or [timezone.now()])
        from notifyme.sync.models import ImportBatch

        batch = (ImportBatch.objects.filter(shop_id=shop_id, state="pending")
                 .order_by("available_at").values_list("available_at", flat=True).first())
        if batch is not None:
            nxt = min(nxt, batch)
        pause = (nxt - timezone.now()).total_seconds()
        time.sleep(min(max(0.0, pause) + 0.01, 2.0))
    raise AssertionError(f"not drained within {timeout}s: {summaries[-3:]}")


def states(shop_id: int) -> dict[str, int]:
    from django.db.models import Count

    return {r["state"]: r["n"] for r in OutboxItem.objects.filter(shop_id=shop_id)
            .values("state").annotate(n=Count("id")).order_by()}
