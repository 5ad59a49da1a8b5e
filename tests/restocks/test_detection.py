"""When a stock change is a restock: threshold, policy, flapping and the cool-down, the command.

Stock is written by the catalog (`notifyme.catalog.services.variant_update_stock`); restock
detection is the restocks app's callback on the catalog's `stock_changed` hook, run in the same
transaction."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from notifyme.catalog import hooks as catalog_hooks
from notifyme.catalog.models import Variant
from notifyme.catalog.services import variant_update_stock
from notifyme.restocks import services, sql
from notifyme.restocks.models import Restock, RestockDelivery, StockWatch
from notifyme.restocks.services import RestockDetection, detection_of
from notifyme.subscriptions.models import Subscription
from tests.fixtures.shopify import make_shop, make_variant
from tests.restocks.conftest import (
    Connected,
    add_subscribers,
    connect,
    drain,
    event_ids,
    set_settings,
)


def stock(**kwargs: Any) -> RestockDetection:
    """A catalog stock write, as restock detection saw it."""
    return detection_of(variant_update_stock(**kwargs))


@pytest.fixture
def waiting(db: None) -> Variant:
    shop = make_shop()
    variant = make_variant(shop, quantity=0)
    add_subscribers(shop, variant, 3)
    return variant


def test_below_threshold_starts_nothing_and_stays_armed(waiting: Variant) -> None:
    set_settings(waiting.shop, threshold=5)
    update = stock(variant=waiting, quantity=4)
    assert update.restock is None and "below the restock threshold 5" in update.describe()
    assert not Restock.objects.exists()
    waiting.refresh_from_db()
    assert waiting.available_quantity == 4
    update = stock(variant=waiting, quantity=5)
    assert update.restock is not None and update.restock.total == 3


def test_at_threshold_starts_once(waiting: Variant) -> None:
    first = stock(variant=waiting, quantity=1)
    assert first.restock is not None and first.describe().endswith(": 3 subscribers")
    again = stock(variant=waiting, quantity=9)
    assert again.restock is None and "already in stock" in again.reason
    assert Restock.objects.count() == 1
    deliveries = RestockDelivery.objects.filter(restock=first.restock).order_by("position")
    subs = Subscription.objects.order_by("created_at", "id")
    assert [d.subscription_id for d in deliveries] == [s.pk for s in subs]
    assert [d.unique_id for d in deliveries] == [
        f"notifyme:bis:{first.restock.pk}:{s.pk}" for s in subs]


@pytest.mark.parametrize("tracked,policy,reason", [
    (False, Variant.InventoryPolicy.DENY, "not tracked"),
    (True, Variant.InventoryPolicy.CONTINUE, "keeps selling"),
])
def test_untracked_or_continue_selling_never_restocks(waiting: Variant, tracked: bool,
                                                      policy: str, reason: str) -> None:
    update = stock(variant=waiting, quantity=10, inventory_tracked=tracked,
                   inventory_policy=policy)
    assert update.restock is None and reason in update.reason


def test_no_subscribers_no_restock(db: None) -> None:
    variant = make_variant(make_shop(), quantity=0)
    update = stock(variant=variant, quantity=3)
    assert update.restock is None and "no active subscribers" in update.reason
    assert not Restock.objects.exists()


def test_flapping_within_cooldown_notifies_nobody_twice(klaviyo_sandbox: Any,
                                                        connected: Connected) -> None:
    shop, variant = connected.shop, connected.variant
    add_subscribers(shop, variant, 4)
    first = stock(variant=variant, quantity=2).restock
    assert first is not None
    drain(first)
    assert first.sent == 4
    variant_update_stock(variant=variant, quantity=0)  # sold out again (a return, a correction)
    # One notified shopper subscribes again; one new shopper joins.
    again = add_subscribers(shop, variant, 1, start=0)[0]
    newcomer = add_subscribers(shop, variant, 1, prefix="new")[0]
    second = stock(variant=variant, quantity=1).restock
    assert second is not None and second.total == 1 and second.skipped == 1
    drain(second)
    skipped = RestockDelivery.objects.get(restock=second, subscription=again)
    assert skipped.state == RestockDelivery.State.SKIPPED and "cool-down" in skipped.last_error
    ids = event_ids(klaviyo_sandbox, connected.account_id)
    assert len(ids) == 5 and f"notifyme:bis:{second.pk}:{newcomer.pk}" in ids
    emails = [e for e in Subscription.objects.filter(
        status=Subscription.Status.NOTIFIED).values_list("email", flat=True)]
    assert sorted(emails) == sorted([f"s{i}@example.com" for i in range(4)] + ["new0@example.com"])

    # After the cool-down the still-waiting re-subscriber is alerted (the notified are not).
    long_ago = timezone.now() - timedelta(hours=25)
    RestockDelivery.objects.filter(state="sent").update(sent_at=long_ago)  # clock rewound
    Restock.objects.update(finished_at=long_ago)
    variant_update_stock(variant=variant, quantity=0)
    third = stock(variant=variant, quantity=1).restock
    assert third is not None and third.total == 1 and third.skipped == 0
    assert RestockDelivery.objects.get(restock=third).subscription_id == again.pk


def test_tenant_isolation(klaviyo_sandbox: Any, connected: Connected) -> None:
    """Restocking shop A's variant never touches shop B's subscribers (same Shopify ids)."""
    other = make_shop("other-shop.myshopify.com", name="Other Shop")
    other_variant = make_variant(other, shopify_id=4001, quantity=0)
    other_account, _ = connect(klaviyo_sandbox, other, "Other Store")
    add_subscribers(connected.shop, connected.variant, 5, prefix="a")
    add_subscribers(other, other_variant, 7, prefix="b")
    restock = stock(variant=connected.variant, quantity=3).restock
    assert restock is not None and restock.total == 5
    drain(restock)
    assert len(event_ids(klaviyo_sandbox, connected.account_id)) == 5
    assert event_ids(klaviyo_sandbox, other_account) == []
    assert Subscription.objects.filter(shop=other, status="active").count() == 7
    assert not RestockDelivery.objects.filter(subscription__shop=other).exists()


def test_command_reports_what_happened(waiting: Variant) -> None:
    out = StringIO()
    call_command("restock", "demo-shop.myshopify.com", "4001", "0", stdout=out)
    assert out.getvalue().strip() == "no restock: quantity 0 is not in stock"
    out = StringIO()
    call_command("restock", "DEMO-shop.myshopify.com", "4001", "12", stdout=out)
    restock = Restock.objects.get()
    assert out.getvalue().strip() == f"restock #{restock.pk} started: 3 subscribers"
    with pytest.raises(CommandError, match="no variant 999"):
        call_command("restock", "demo-shop.myshopify.com", "999", "1")
    with pytest.raises(CommandError):
        call_command("restock", "other-shop.myshopify.com", "4001", "1")


def test_detection_is_registered_on_the_catalogs_stock_hook() -> None:
    """The catalog imports nothing from restocks: restocks' ready() registers detection."""
    assert services.restock_detect in catalog_hooks.stock_changed.callbacks
    assert services.restock_threshold in catalog_hooks.restock_threshold.callbacks


def test_a_failing_restock_start_rolls_the_stock_write_back(
    waiting: Variant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Detection runs in the stock write's transaction: nothing is half-written."""
    stock(variant=waiting, quantity=0)  # the watch exists and is armed

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("deliveries table unavailable")

    monkeypatch.setattr(sql, "insert_deliveries", broken)
    with pytest.raises(RuntimeError):
        variant_update_stock(variant=waiting, quantity=7)
    waiting.refresh_from_db()
    assert waiting.available_quantity == 0
    assert StockWatch.objects.get(variant=waiting).armed  # the next rise still counts
    assert not Restock.objects.exists()
    monkeypatch.undo()
    assert stock(variant=waiting, quantity=7).restock is not None
