"""Batched sending: batches sized to the stock, oldest first, re-check before each batch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from notifyme.catalog.services import variant_update_stock
from notifyme.restocks.batches import restock_advance
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.restocks.services import detection_of
from notifyme.subscriptions.models import Subscription
from tests.restocks.conftest import Connected, add_subscribers, drain, event_ids, set_settings


def _notified_emails() -> list[str]:
    return sorted(Subscription.objects.filter(status="notified").values_list("email", flat=True),
                  key=lambda e: int(e[1:].split("@")[0]))


def _later(restock: Restock) -> Any:
    restock.refresh_from_db()
    assert restock.next_batch_at is not None
    return restock.next_batch_at + timedelta(seconds=1)


def test_batches_pause_when_sold_out_and_the_rest_keep_their_place(
    klaviyo_sandbox: Any, connected: Connected
) -> None:
    shop, variant = connected.shop, connected.variant
    set_settings(shop, send_mode="batched", subscribers_per_unit=5, batch_interval_minutes=10)
    add_subscribers(shop, variant, 30)
    restock = detection_of(variant_update_stock(variant=variant, quantity=2)).restock
    assert restock is not None and restock.batch_size == 10 and restock.total == 30
    drain(restock)
    assert restock.sent == 10 and restock.state == Restock.State.RUNNING
    assert _notified_emails() == [f"s{i}@example.com" for i in range(10)]
    assert restock.next_batch_at is not None
    assert restock.next_batch_at > timezone.now() + timedelta(minutes=9)
    assert restock_advance(restock_id=restock.pk) == "not_due"

    # Stock went down to 1 (a sale): the next batch is sized to what is left (1 x 5).
    variant_update_stock(variant=variant, quantity=1)
    assert restock_advance(restock_id=restock.pk, now=_later(restock)) == "released:5"
    drain(restock)
    assert restock.sent == 15
    assert _notified_emails() == [f"s{i}@example.com" for i in range(15)]

    # Sold out before the next batch: paused; nobody else is alerted.
    variant_update_stock(variant=variant, quantity=0)
    assert restock_advance(restock_id=restock.pk, now=_later(restock)) == "paused"
    restock.refresh_from_db()
    assert restock.state == Restock.State.PAUSED_SOLD_OUT and restock.paused_at is not None
    assert len(event_ids(klaviyo_sandbox, connected.account_id)) == 15

    # Next restock: the 15 still waiting go first, in their original order.
    nxt = detection_of(variant_update_stock(variant=variant, quantity=1)).restock
    assert nxt is not None and nxt.total == 15 and nxt.batch_size == 5
    restock.refresh_from_db()
    assert restock.total == 15 and restock.skipped == 15
    moved = RestockDelivery.objects.filter(restock=restock, state="skipped").first()
    assert moved is not None and f"#{nxt.pk}" in moved.last_error
    drain(nxt)
    assert _notified_emails() == [f"s{i}@example.com" for i in range(20)]
    ids = event_ids(klaviyo_sandbox, connected.account_id)
    assert len(ids) == 20 and len(set(ids)) == 20


def test_batched_restock_completes_after_last_batch(klaviyo_sandbox: Any, connected: Connected
                                                   ) -> None:
    set_settings(connected.shop, send_mode="batched", subscribers_per_unit=2)
    add_subscribers(connected.shop, connected.variant, 7)
    restock = detection_of(variant_update_stock(variant=connected.variant, quantity=3)).restock
    assert restock is not None and restock.batch_size == 6
    drain(restock)
    assert restock.sent == 6
    assert restock_advance(restock_id=restock.pk, now=_later(restock)) == "released:1"
    drain(restock)
    assert restock.sent == 7 and restock.state == Restock.State.COMPLETED
    assert restock.next_batch_at is None


def test_all_at_once_is_not_paused_by_a_sell_out(klaviyo_sandbox: Any, connected: Connected
                                                 ) -> None:
    add_subscribers(connected.shop, connected.variant, 12)
    restock = detection_of(variant_update_stock(variant=connected.variant, quantity=1)).restock
    assert restock is not None
    variant_update_stock(variant=connected.variant, quantity=0)
    drain(restock)
    assert restock.sent == 12 and restock.state == Restock.State.COMPLETED
