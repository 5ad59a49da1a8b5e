"""Rate limits (per IP, per contact per shop), the honeypot and a Redis outage at submit time."""

from __future__ import annotations

import time

import django_rq
import pytest
from django.test import Client, RequestFactory, override_settings

from notifyme.catalog.models import Variant
from notifyme.shops.models import Shop
from notifyme.subscriptions import abuse
from notifyme.subscriptions.models import Subscription
from notifyme.sync.models import OutboxItem
from tests.fixtures.shopify import make_variant
from tests.subscriptions.helpers import subscribe

DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_QUEUES = {name: {"URL": DEAD_REDIS, "DEFAULT_TIMEOUT": 120}
               for name in ("default", "sync", "bulk")}


@pytest.fixture(autouse=True)
def start_of_a_window(monkeypatch: pytest.MonkeyPatch) -> float:
    """The limits' clock 10 s into an hour (and so into a minute): a test's submissions all
    land in one window, whatever the wall clock, and the wait left is known."""
    pinned = time.time() // 3600 * 3600 + 10
    monkeypatch.setattr(abuse, "clock", lambda: pinned)
    return pinned


def _email(n: int) -> dict[str, object]:
    return {"variant_id": 4001, "email": f"shopper{n}@example.com"}


@pytest.mark.django_db
def test_per_ip_limit_answers_429_with_retry_after(client: Client,
                                                   sold_out_variant: Variant) -> None:
    ip = {"HTTP_X_FORWARDED_FOR": "203.0.113.7, 10.0.0.1", "REMOTE_ADDR": "10.0.0.1"}
    for n in range(10):
        assert subscribe(client, _email(n), **ip).status_code == 201
    response = subscribe(client, _email(99), **ip)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) == 50  # the rest of the minute window
    assert Subscription.objects.count() == 10
    # Another shopper behind the same Shopify edge (another first hop) is not affected.
    other = {"HTTP_X_FORWARDED_FOR": "198.51.100.9, 10.0.0.1", "REMOTE_ADDR": "10.0.0.1"}
    assert subscribe(client, _email(100), **other).status_code == 201


@pytest.mark.django_db
def test_invalid_requests_count_against_the_ip_limit(client: Client,
                                                     sold_out_variant: Variant) -> None:
    for _ in range(10):
        assert subscribe(client, {"variant_id": "junk"}).status_code == 400
    assert subscribe(client, _email(1)).status_code == 429


def test_client_ip_prefers_the_first_forwarded_hop_when_it_is_an_ip() -> None:
    factory = RequestFactory()
    request = factory.get("/", HTTP_X_FORWARDED_FOR=" 2001:db8::1 , 10.0.0.1",
                          REMOTE_ADDR="10.0.0.1")
    assert abuse.client_ip(request) == "2001:db8::1"
    request = factory.get("/", HTTP_X_FORWARDED_FOR="not-an-ip", REMOTE_ADDR="10.0.0.2")
    assert abuse.client_ip(request) == "10.0.0.2"
    assert abuse.client_ip(factory.get("/", REMOTE_ADDR="10.0.0.3")) == "10.0.0.3"


@pytest.mark.django_db
def test_per_contact_limit_per_shop(client: Client, shop: Shop, other_shop: Shop,
                                    sold_out_variant: Variant) -> None:
    make_variant(other_shop, shopify_id=4001)
    body = {"variant_id": 4001, "email": "ada@example.com"}
    for n in range(5):
        response = subscribe(client, body, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        assert response.status_code in (200, 201)
    response = subscribe(client, body, HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 3590  # the rest of the contact's hour window
    assert "60 minutes" in response.json()["error"]["message"]
    # Same contact, other shop: its own budget.
    response = subscribe(client, body, shop_domain=other_shop.domain,
                         HTTP_X_FORWARDED_FOR="203.0.113.51")
    assert response.status_code == 201


@pytest.mark.django_db
def test_per_contact_limit_counts_the_phone_in_any_format(client: Client,
                                                          sold_out_variant: Variant) -> None:
    formats = ["+14155552671", "(415) 555-2671", "415.555.2671", "+1 415 555 2671",
               "4155552671"]
    for n, phone in enumerate(formats):
        response = subscribe(client, {"variant_id": 4001, "phone": phone},
                             HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        assert response.status_code in (200, 201)
    response = subscribe(client, {"variant_id": 4001, "phone": "415-555-2671"},
                         HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429


@pytest.mark.django_db
@override_settings(SUBSCRIBE_RATE_PER_IP=2)
def test_limits_come_from_settings(client: Client, sold_out_variant: Variant) -> None:
    assert subscribe(client, _email(1)).status_code == 201
    assert subscribe(client, _email(2)).status_code == 201
    assert subscribe(client, _email(3)).status_code == 429


def test_redis_never_sees_the_contact(clean_redis: object, db: None) -> None:
    abuse.subscribe_contact_check(shop_id=1, contacts=["ada@example.com"])
    keys = [key.decode() for key in clean_redis.keys("*")]  # type: ignore[attr-defined]
    assert keys and not any("ada" in key for key in keys)


def test_fixed_window_resets_in_the_next_window(db: None) -> None:
    for _ in range(10):
        abuse.subscribe_ip_check(ip="192.0.2.1", now=1_000_020.0)
    with pytest.raises(abuse.RateLimited) as raised:
        abuse.subscribe_ip_check(ip="192.0.2.1", now=1_000_030.0)
    assert raised.value.retry_after == 1_000_080 - 1_000_030
    abuse.subscribe_ip_check(ip="192.0.2.1", now=1_000_081.0)  # next window: allowed


@pytest.mark.django_db
def test_honeypot_stores_nothing(client: Client, sold_out_variant: Variant) -> None:
    response = subscribe(client, {**_email(1), "website": "https://spam.example"})
    assert response.status_code == 400
    assert "website" in response.json()["error"]["fields"]
    assert not Subscription.objects.exists() and not OutboxItem.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_subscribe_nudges_the_sync_queue_on_commit(client: Client,
                                                   sold_out_variant: Variant) -> None:
    assert subscribe(client, _email(1)).status_code == 201
    (job,) = django_rq.get_queue("sync").jobs
    assert job.func_name == "notifyme.sync.jobs.sync_shop"
    assert job.args[0] == sold_out_variant.shop_id  # an id, never a payload or a key


@pytest.mark.django_db(transaction=True)
def test_redis_down_at_submit_time_still_stores_and_answers_201(
    client: Client, sold_out_variant: Variant, caplog: pytest.LogCaptureFixture
) -> None:
    with override_settings(REDIS_URL=DEAD_REDIS, RQ_QUEUES=DEAD_QUEUES):
        response = subscribe(client, _email(1))
        assert response.status_code == 201, response.content
        duplicate = subscribe(client, _email(1))
        assert duplicate.status_code == 200
    subscription = Subscription.objects.get()
    assert subscription.status == Subscription.Status.ACTIVE
    outbox = OutboxItem.objects.get()
    assert outbox.subscription == subscription and outbox.state == OutboxItem.State.PENDING
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "Redis is unreachable" in messages  # the rate limit was skipped, loudly
    assert "could not nudge sync" in messages  # the on-commit nudge failed, loudly
