"""subscription_create / _unsubscribe / _redact: one transaction per change, outbox included."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from notifyme.catalog.models import Variant
from notifyme.shops.models import Shop
from notifyme.subscriptions import hooks
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import (
    subscription_create,
    subscription_redact,
    subscription_requeue_sync,
    subscription_unsubscribe,
)
from notifyme.sync import services as sync_services
from notifyme.sync.models import OutboxItem
from tests.fixtures.shopify import make_shop, make_variant


def _kinds(subscription: Subscription) -> list[str]:
    return list(subscription.outbox_items.order_by("id").values_list("kind", flat=True))


@pytest.mark.django_db
def test_create_refuses_another_shops_variant(shop: Shop, other_shop: Shop) -> None:
    theirs = make_variant(other_shop, shopify_id=5005)
    with pytest.raises(ValueError, match="another shop"):
        subscription_create(shop=shop, variant=theirs, email="a@example.com")
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_create_needs_a_contact(shop: Shop, sold_out_variant: Variant) -> None:
    with pytest.raises(ValueError):
        subscription_create(shop=shop, variant=sold_out_variant)


@pytest.mark.django_db
def test_a_duplicate_is_refused_by_the_constraints_and_answers_the_existing_row(
    shop: Shop, sold_out_variant: Variant
) -> None:
    """No lookup before the INSERT: the partial unique constraints refuse the duplicate (by
    email, or by phone under another email), the loser's outbox row rolls back with it, and
    the existing subscription is the answer."""
    first, created = subscription_create(shop=shop, variant=sold_out_variant,
                                         email="a@example.com", phone="+14155550100")
    assert created
    by_email = subscription_create(shop=shop, variant=sold_out_variant, email="a@example.com")
    by_phone = subscription_create(shop=shop, variant=sold_out_variant, email="b@example.com",
                                   phone="+14155550100")
    assert by_email == (first, False)
    assert by_phone == (first, False)
    assert Subscription.objects.count() == 1
    assert OutboxItem.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_one_row() -> None:
    shop = make_shop()
    variant = make_variant(shop)
    barrier = threading.Barrier(4)
    results: list[bool] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            _, created = subscription_create(shop=shop, variant=variant, email="a@example.com")
            results.append(created)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(results) == [False, False, False, True]
    assert Subscription.objects.count() == 1
    assert OutboxItem.objects.count() == 1


@pytest.mark.django_db
def test_unsubscribe_is_idempotent_and_writes_one_outbox_row(
    shop: Shop, sold_out_variant: Variant
) -> None:
    subscription, _ = subscription_create(shop=shop, variant=sold_out_variant,
                                          email="a@example.com")
    assert subscription_unsubscribe(subscription=subscription) is True
    assert subscription.status == Subscription.Status.UNSUBSCRIBED
    assert subscription.unsubscribed_at is not None
    first_time = subscription.unsubscribed_at
    assert subscription_unsubscribe(subscription=subscription) is False
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at == first_time
    assert _kinds(subscription) == [OutboxItem.Kind.PROFILE_SYNC, OutboxItem.Kind.UNSUBSCRIBE]


@pytest.mark.django_db
def test_redact_blanks_personal_data_and_queues_a_redaction(
    shop: Shop, sold_out_variant: Variant
) -> None:
    subscription, _ = subscription_create(
        shop=shop, variant=sold_out_variant, email="a@example.com", phone="+14155552671",
        first_name="Ada", shopify_customer_id=77,
    )
    assert subscription_redact(subscription=subscription) is True
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.REDACTED
    assert subscription.redacted_at is not None
    assert (subscription.email, subscription.phone, subscription.first_name) == ("", "", "")
    assert subscription.shopify_customer_id is None
    assert subscription_redact(subscription=subscription) is False
    assert _kinds(subscription) == [OutboxItem.Kind.PROFILE_SYNC, OutboxItem.Kind.REDACT]
    # A redacted subscription cannot be unsubscribed (nothing left to withdraw).
    assert subscription_unsubscribe(subscription=subscription) is False


@pytest.mark.django_db
def test_requeue_sync_only_for_active(shop: Shop, sold_out_variant: Variant) -> None:
    subscription, _ = subscription_create(shop=shop, variant=sold_out_variant,
                                          email="a@example.com")
    # By hand: the state a sync failure leaves (the engine's, not this app's).
    Subscription.objects.filter(pk=subscription.pk).update(
        sync_state=Subscription.SyncState.FAILED
    )
    assert subscription_requeue_sync(subscription=subscription) is True
    assert subscription.sync_state == Subscription.SyncState.PENDING
    subscription_unsubscribe(subscription=subscription)
    assert subscription_requeue_sync(subscription=subscription) is False
    assert _kinds(subscription) == [OutboxItem.Kind.PROFILE_SYNC, OutboxItem.Kind.PROFILE_SYNC,
                                    OutboxItem.Kind.UNSUBSCRIBE]


@pytest.mark.django_db
def test_a_failing_outbox_write_leaves_no_subscription(
    shop: Shop, sold_out_variant: Variant, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("outbox table unavailable")

    # The sync app's lifecycle callback writes the outbox row through `outbox_enqueue`.
    monkeypatch.setattr(sync_services, "outbox_enqueue", broken)
    with pytest.raises(RuntimeError):
        subscription_create(shop=shop, variant=sold_out_variant, email="a@example.com")
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_nudge_waits_for_commit(shop: Shop, sold_out_variant: Variant,
                                django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        subscription_create(shop=shop, variant=sold_out_variant, email="a@example.com")
    assert len(callbacks) == 1  # the RQ nudge, run only once the transaction commits


def test_sync_registers_the_outbox_on_the_lifecycle_hook() -> None:
    """Subscriptions import nothing from sync: sync's ready() registers its outbox writer."""
    assert sync_services.outbox_for_subscription in hooks.lifecycle.callbacks


@pytest.mark.django_db
def test_each_write_fires_its_lifecycle_event(
    shop: Shop, sold_out_variant: Variant, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[hooks.Lifecycle, str]] = []

    def record(*, subscription: Subscription, event: hooks.Lifecycle) -> None:
        seen.append((event, subscription.status))  # the callback sees the written state

    monkeypatch.setattr(hooks.lifecycle, "callbacks", [*hooks.lifecycle.callbacks, record])
    subscription, _ = subscription_create(shop=shop, variant=sold_out_variant,
                                          email="a@example.com")
    subscription_requeue_sync(subscription=subscription)
    subscription_unsubscribe(subscription=subscription)
    subscription_unsubscribe(subscription=subscription)  # already ended: nothing fires
    subscription_redact(subscription=subscription)
    events, status = hooks.Lifecycle, Subscription.Status
    assert seen == [(events.CREATED, status.ACTIVE), (events.CHANGED, status.ACTIVE),
                    (events.WITHDRAWN, status.UNSUBSCRIBED), (events.ERASED, status.REDACTED)]
