"""The job: due events of one shop processed oldest first through `TOPICS`, each outcome under
the claim's token; a failing handler fails alone, "retry later" backs off, the sweeper
re-nudges what Redis lost."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import django_rq
import pytest
from django.test import Client, override_settings
from django.utils import timezone

from integrations.shopify.errors import ShopifyUnavailable
from notifyme.core.redis import get_redis
from notifyme.delivery import leasing, registry, sweeper
from notifyme.shops.models import Shop
from notifyme.webhooks import lanes, processing
from notifyme.webhooks.context import EventIgnored, RetryLater, WebhookContext
from notifyme.webhooks.models import WebhookEvent
from notifyme.webhooks.services import webhook_events_retry
from notifyme.webhooks.topics import TOPICS

from .conftest import SHOP, deliver, states, webhook_jobs

pytestmark = pytest.mark.django_db
Capture = Callable[..., Any]
TEST_TOPIC = "notifyme_test/echo"


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """A test-registered topic whose handler records each payload and obeys its `do` key."""
    calls: list[dict[str, Any]] = []

    def handler(ctx: WebhookContext) -> str:
        calls.append(ctx.payload)
        action = ctx.payload.get("do")
        if action == "raise":
            raise ValueError("no such variant 42")
        if action == "retry":
            raise RetryLater("Shopify said wait")
        if action == "outage":
            raise ShopifyUnavailable("503 from Shopify")
        if action == "ignore":
            raise EventIgnored("not for us")
        if action == "write-then-raise":
            Shop.objects.filter(pk=ctx.shop.pk).update(name="half-written")  # type: ignore[union-attr]
            raise KeyError("variants")
        return f"echo {ctx.payload.get('n')} for {ctx.shop_domain}"

    monkeypatch.setitem(TOPICS, TEST_TOPIC, handler)
    yield calls


def _run() -> dict[str, Any]:
    return processing.process_shop(SHOP)


def test_registered_with_the_shared_sweeper() -> None:
    handler = registry.get("webhooks")
    assert set(handler.delayed) == {"webhooks"}
    assert "notifyme.webhooks.jobs" in registry.warm_up_modules()


def test_app_uninstalled_end_to_end_and_idempotent(client: Client, shop: Shop) -> None:
    assert deliver(client, "app/uninstalled", {"id": 1, "myshopify_domain": SHOP}).status_code \
        == 200
    summary = _run()
    assert summary["processed"] == 1 and summary["follow_up"] == "idle"
    shop.refresh_from_db()
    assert shop.state == Shop.State.UNINSTALLED
    event = WebhookEvent.objects.get()
    assert (event.state, event.outcome) == ("processed", "shop marked uninstalled")
    assert event.processed_at is not None and event.lease_token and event.leased_until is None
    deliver(client, "app/uninstalled", {"id": 1})  # a second uninstall delivery
    _run()
    assert list(WebhookEvent.objects.order_by("id").values_list("outcome", flat=True)) == [
        "shop marked uninstalled", "already uninstalled"]


def test_unknown_shop_uninstall_is_ignored(client: Client, db: None) -> None:
    deliver(client, "app/uninstalled", shop_domain="nobody.myshopify.com")
    processing.process_shop("nobody.myshopify.com")
    event = WebhookEvent.objects.get()
    assert (event.state, event.last_error) == ("ignored", "no such shop here: nothing to uninstall")


def test_duplicate_is_processed_once(client: Client, shop: Shop,
                                     seen: list[dict[str, Any]]) -> None:
    deliver(client, TEST_TOPIC, {"n": 1}, webhook_id="dup")
    _run()
    deliver(client, TEST_TOPIC, {"n": 1}, webhook_id="dup")
    _run()
    assert seen == [{"n": 1}]
    assert states() == {"processed": 1}


def test_events_run_oldest_first_and_a_failing_handler_fails_alone(
    client: Client, shop: Shop, seen: list[dict[str, Any]],
) -> None:
    for payload in ({"n": 1}, {"n": 2, "do": "raise"}, {"n": 3}, {"n": 4, "do": "ignore"}):
        deliver(client, TEST_TOPIC, payload)
    summary = _run()
    assert [p["n"] for p in seen] == [1, 2, 3, 4]
    assert (summary["processed"], summary["failed"], summary["ignored"]) == (2, 1, 1)
    rows = list(WebhookEvent.objects.order_by("id").values_list("state", "outcome",
                                                                "last_error"))
    assert rows == [
        ("processed", f"echo 1 for {SHOP}", ""),
        ("failed", "", "ValueError: no such variant 42"),
        ("processed", f"echo 3 for {SHOP}", ""),
        ("ignored", "", "not for us"),
    ]


def test_a_raising_handler_leaves_nothing_half_written(client: Client, shop: Shop,
                                                       seen: list[dict[str, Any]]) -> None:
    deliver(client, TEST_TOPIC, {"do": "write-then-raise"})
    _run()
    shop.refresh_from_db()
    assert shop.name != "half-written"
    assert WebhookEvent.objects.get().last_error == "KeyError: 'variants'"


@pytest.mark.parametrize("action", ["retry", "outage"])
@override_settings(WEBHOOK_MAX_ATTEMPTS=3)
def test_retry_later_backs_off_then_fails_visibly(client: Client, shop: Shop,
                                                  seen: list[dict[str, Any]],
                                                  action: str) -> None:
    deliver(client, TEST_TOPIC, {"do": action})
    summary = _run()
    assert summary["retry"] == 1 and summary["follow_up"].startswith("later")
    event = WebhookEvent.objects.get()
    assert event.state == "pending" and event.attempts == 1
    assert event.available_at > timezone.now()
    assert event.last_error in {"Shopify said wait", "ShopifyUnavailable: 503 from Shopify"}
    assert get_redis().zscore("sync:delayed", f"webhooks|{SHOP}") is not None
    assert _run().get("retry") is None  # not due yet: nothing claimed
    for _ in range(2):
        WebhookEvent.objects.update(available_at=timezone.now())  # the backoff elapsed
        _run()
    event.refresh_from_db()
    assert event.state == "failed" and event.attempts == 2
    assert event.last_error.startswith("gave up after 3 tries: ")
    assert len(seen) == 3


def test_a_stale_worker_writes_nothing(client: Client, shop: Shop,
                                       seen: list[dict[str, Any]]) -> None:
    deliver(client, TEST_TOPIC, {"n": 1})
    stale = leasing.new_token()
    [event_id] = leasing.claim(WebhookEvent.objects.all(), limit=1, lease_seconds=60,
                               token=stale)
    WebhookEvent.objects.update(leased_until=timezone.now() - timedelta(seconds=1))  # it stalled
    fresh = leasing.new_token()
    assert leasing.claim(WebhookEvent.objects.all(), limit=1, lease_seconds=60,
                         token=fresh) == [event_id]
    event = WebhookEvent.objects.get()
    assert processing.event_process(event, stale) == "lost"
    event.refresh_from_db()
    assert (event.state, event.lease_token) == ("pending", fresh)
    assert processing.event_process(event, fresh) == "processed"


def test_personal_payloads_are_cleared_once_processed(client: Client, shop: Shop,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TOPICS, "customers/redact", lambda ctx: "redacted 1 subscription")
    monkeypatch.setitem(TOPICS, "shop/redact", lambda ctx: "shop erased")
    deliver(client, "customers/redact", {"customer": {"email": "shopper@example.com"}})
    deliver(client, "app/uninstalled", {"id": 1, "email": "merchant@example.com"})
    _run()
    assert list(WebhookEvent.objects.values_list("payload", flat=True).order_by("id")) == [
        None, {"id": 1, "email": "merchant@example.com"}]
    deliver(client, "shop/redact", {"shop_id": 1, "shop_domain": SHOP})
    _run()
    assert set(WebhookEvent.objects.values_list("payload", flat=True)) == {None}
    assert states() == {"processed": 3}


def test_support_can_queue_failed_events_again(client: Client, shop: Shop,
                                               seen: list[dict[str, Any]],
                                               django_capture_on_commit_callbacks: Capture) -> None:
    deliver(client, TEST_TOPIC, {"do": "raise"})
    deliver(client, TEST_TOPIC, raw=b"not json")
    _run()
    assert states() == {"failed": 2}
    django_rq.get_queue("sync").empty()
    get_redis().flushdb()
    with django_capture_on_commit_callbacks(execute=True):
        # The one without a payload cannot be processed again.
        assert webhook_events_retry(event_ids=WebhookEvent.objects.values_list("pk",
                                                                               flat=True)) == 1
    assert len(webhook_jobs()) == 1
    TOPICS[TEST_TOPIC] = lambda ctx: "fixed"
    _run()
    assert states() == {"processed": 1, "failed": 1}


def test_lost_redis_job_is_renudged_by_the_sweeper(client: Client, shop: Shop,
                                                   django_capture_on_commit_callbacks: Capture,
                                                   seen: list[dict[str, Any]]) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, TEST_TOPIC, {"n": 1})
    assert len(webhook_jobs()) == 1
    django_rq.get_queue("sync").empty()  # the job is gone, its marker is not
    assert lanes.enqueue_shop(shop_domain=SHOP) is False
    assert sweeper.sweep()["webhooks"]["nudged"] == 1
    assert len(webhook_jobs()) == 1
    get_redis().flushdb()  # everything lost, marker included
    assert sweeper.sweep()["webhooks"]["nudged"] == 1
    _run()
    assert states() == {"processed": 1}
    assert sweeper.sweep()["webhooks"]["nudged"] == 0


def test_stranded_lease_is_swept(client: Client, shop: Shop,
                                 seen: list[dict[str, Any]]) -> None:
    deliver(client, TEST_TOPIC, {"n": 1})
    leasing.claim(WebhookEvent.objects.all(), limit=1, lease_seconds=60)  # a worker that dies
    assert sweeper.sweep()["webhooks"]["nudged"] == 0  # leased: not due
    WebhookEvent.objects.update(leased_until=timezone.now() - timedelta(seconds=1))
    assert sweeper.sweep()["webhooks"]["nudged"] == 1
    _run()
    assert states() == {"processed": 1}


@override_settings(WEBHOOK_CLAIM=3)
def test_a_backlog_drains_in_rounds(client: Client, shop: Shop,
                                    seen: list[dict[str, Any]]) -> None:
    for n in range(8):
        deliver(client, TEST_TOPIC, {"n": n})
    assert _run()["processed"] == 8
    assert [p["n"] for p in seen] == list(range(8))
