"""All-at-once fan-out over HTTP against the sandbox: one event per subscriber, exactly once."""

from __future__ import annotations

from collections import Counter
from typing import Any

from integrations.klaviyo.models import SyncAttempt
from notifyme.catalog.services import variant_update_stock
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.restocks.services import detection_of
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_unsubscribe
from tests.restocks.conftest import (
    Connected,
    add_subscribers,
    drain,
    event_ids,
    materialise_all,
)


def test_all_at_once_sends_one_event_per_subscriber(klaviyo_sandbox: Any, connected: Connected
                                                     ) -> None:
    subs = add_subscribers(connected.shop, connected.variant, 2500, phone_every=3)
    update = variant_update_stock(variant=connected.variant, quantity=7)
    restock = detection_of(update).restock
    assert restock is not None
    assert materialise_all(restock).total == 2500
    results = drain(restock)
    assert [r.claimed for r in results[:3]] == [1000, 1000, 500]
    assert restock.state == Restock.State.COMPLETED and restock.sent == 2500
    assert restock.failed == 0 and restock.finished_at is not None

    events = klaviyo_sandbox.admin.events(connected.account_id, metric="Back in Stock")
    ids = [e["unique_id"] for e in events]
    assert len(ids) == 2500 and len(set(ids)) == 2500
    assert set(ids) == {f"notifyme:bis:{restock.pk}:{s.pk}" for s in subs}
    props = events[0]["properties"]
    assert props["product_title"] == "Linen Shirt" and props["variant_title"] == "Large"
    assert props["price"] == "49.00" and props["currency"] == "USD"
    assert props["quantity_available"] == 7 and props["sku"] == "SKU-4001"
    assert props["product_url"] == ("https://demo-shop.myshopify.com/products/linen-shirt"
                                    "?variant=4001&utm_source=notifyme&utm_medium=back_in_stock"
                                    f"&utm_campaign=restock-{restock.pk}")
    assert props["image_url"] == "https://cdn.example.com/shirt.jpg"
    assert props["shop_name"] == "Demo Shop" and props["variant_id"] == 4001
    assert props["product_id"] == 9001

    statuses = Counter(Subscription.objects.values_list("status", flat=True))
    assert statuses == {Subscription.Status.NOTIFIED: 2500}
    assert not Subscription.objects.filter(notified_at__isnull=True).exists()
    stats = klaviyo_sandbox.admin.stats(connected.account_id)
    assert stats["throttled"] == 0
    attempts = SyncAttempt.objects.filter(shop=connected.shop, operation="bulk_create_events")
    assert attempts.count() == 3 and all(a.ok for a in attempts)
    assert sorted(a.records for a in attempts) == [500, 1000, 1000]


def test_consent_is_irrelevant_for_the_alert(klaviyo_sandbox: Any, connected: Connected) -> None:
    """The BIS event is transactional: subscribers without marketing consent get it too."""
    subs = add_subscribers(connected.shop, connected.variant, 6, consent_every=2)
    assert {s.marketing_consent for s in subs} == {True, False}
    restock = detection_of(variant_update_stock(variant=connected.variant, quantity=1)).restock
    assert restock is not None
    drain(restock)
    assert len(event_ids(klaviyo_sandbox, connected.account_id)) == 6


def test_single_subscriber_uses_create_event(klaviyo_sandbox: Any, connected: Connected) -> None:
    add_subscribers(connected.shop, connected.variant, 1, phone_every=1)
    restock = detection_of(variant_update_stock(variant=connected.variant, quantity=3)).restock
    assert restock is not None
    drain(restock)
    paths = [r["path"] for r in klaviyo_sandbox.admin.requests(connected.account_id)]
    assert "/api/events" in paths and "/api/event-bulk-create-jobs" not in paths
    events = klaviyo_sandbox.admin.events(connected.account_id, metric="Back in Stock")
    assert [e["unique_id"] for e in events] == [f"notifyme:bis:{restock.pk}:"
                                                f"{Subscription.objects.get().pk}"]
    restock.refresh_from_db()
    assert restock.state == Restock.State.COMPLETED and restock.sent == 1


def test_resending_an_accepted_chunk_is_harmless(klaviyo_sandbox: Any, connected: Connected
                                                 ) -> None:
    """A worker that died after Klaviyo accepted a chunk: the lease expires, the chunk is sent
    again with the same unique_ids, and Klaviyo keeps one event per subscriber."""
    add_subscribers(connected.shop, connected.variant, 300)
    restock = detection_of(variant_update_stock(variant=connected.variant, quantity=5)).restock
    assert restock is not None
    drain(restock)
    # By hand: the crash state, as if the sends had never been recorded.
    RestockDelivery.objects.filter(restock=restock).update(state=RestockDelivery.State.PENDING)
    Subscription.objects.update(status=Subscription.Status.ACTIVE)
    Restock.objects.filter(pk=restock.pk).update(state=Restock.State.RUNNING, sent=0)
    drain(restock)
    ids = event_ids(klaviyo_sandbox, connected.account_id)
    assert len(ids) == 300 and len(set(ids)) == 300
    assert klaviyo_sandbox.admin.stats(connected.account_id)["duplicates_dropped"] == 300


def test_unsubscribed_before_sending_is_skipped(klaviyo_sandbox: Any, connected: Connected
                                                ) -> None:
    subs = add_subscribers(connected.shop, connected.variant, 5)
    restock = detection_of(variant_update_stock(variant=connected.variant, quantity=2)).restock
    assert restock is not None
    subscription_unsubscribe(subscription=subs[0])
    drain(restock)
    assert restock.sent == 4 and restock.skipped == 1 and restock.total == 4
    assert restock.state == Restock.State.COMPLETED
    assert len(event_ids(klaviyo_sandbox, connected.account_id)) == 4
