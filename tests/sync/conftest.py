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
from django.utils import timezone

from integrations.klaviyo.models import KlaviyoConnection
from notifyme.catalog.models import Variant
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.sync import engine
from notifyme.sync.models import OutboxItem
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import make_shop, make_variant


@dataclass
class Merchant:
    """A shop connected to its own sandbox account."""

    shop: Shop
    variant: Variant
    connection: KlaviyoConnection
    account_id: str
    key: str
    list_id: str
    sandbox: SandboxHandle

    @property
    def admin(self) -> Any:
        return self.sandbox.admin

    def stats(self) -> dict[str, Any]:
        return self.admin.stats(self.account_id)

    def members(self) -> list[str]:
        return self.admin.list_members(self.account_id, self.list_id)


def connect(shop: Shop, sandbox: SandboxHandle, *, scopes: list[str] | str = "all"
            ) -> tuple[KlaviyoConnection, str, str, str]:
    account, key = sandbox.new_account(f"Klaviyo of {shop.domain}", scopes=scopes)
    list_id = sandbox.admin.create_list(account["id"], "Back in Stock")
    connection, _ = KlaviyoConnection.objects.get_or_create(shop=shop)
    connection.set_private_key(key)
    connection.account_id = account["id"]
    connection.list_id = list_id
    connection.status = KlaviyoConnection.Status.CONNECTED
    connection.save()
    return connection, account["id"], key, list_id


def make_merchant(sandbox: SandboxHandle, domain: str = "demo-shop.myshopify.com",
                  shopify_variant: int = 4001) -> Merchant:
    shop = make_shop(domain)
    variant = make_variant(shop, shopify_id=shopify_variant, product_id=shopify_variant + 5000)
    connection, account_id, key, list_id = connect(shop, sandbox)
    return Merchant(shop, variant, connection, account_id, key, list_id, sandbox)


@pytest.fixture
def merchant(db: None, klaviyo_sandbox: SandboxHandle) -> Merchant:
    return make_merchant(klaviyo_sandbox)


def add_subscribers(
    merchant: Merchant, count: int, *, consent: bool = False, phone: bool = False,
    start: int = 0, age: timedelta | None = None, **fields: Any,
) -> list[Subscription]:
    """`count` active subscriptions + PROFILE_SYNC rows, written with bulk_create (fast).
    `consent` is marketing consent for every channel given (email, and SMS with `phone`)."""
    created_at = timezone.now() - (age or timedelta(0))
    sms = consent and phone
    subs = [
        Subscription(
            shop=merchant.shop, variant=merchant.variant, email=f"shopper{start + i}@shop.test",
            phone=f"+1415555{start + i:04d}" if phone else "", first_name="Ann",
            notify_by_email=True, notify_by_sms=phone, marketing_consent=consent,
            consented_at=created_at if consent else None, sms_consent=sms,
            sms_consented_at=created_at if sms else None, locale="en-US", **fields,
        )
        for i in range(count)
    ]
    subs = Subscription.objects.bulk_create(subs, batch_size=2000)
    if age:
        Subscription.objects.filter(pk__in=[s.pk for s in subs]).update(created_at=created_at)
        for sub in subs:
            sub.created_at = created_at
    OutboxItem.objects.bulk_create(
        [OutboxItem(shop=merchant.shop, subscription=s, kind=OutboxItem.Kind.PROFILE_SYNC)
         for s in subs], batch_size=2000)
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
