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
    # Shopify's proxy appends the address it saw (the last entry); what comes before is the
    # client's own header.
    ip = {"HTTP_X_FORWARDED_FOR": "10.9.9.9, 203.0.113.7", "REMOTE_ADDR": "10.0.0.1"}
    for n in range(10):
        assert subscribe(client, _email(n), **ip).status_code == 201
    response = subscribe(client, _email(99), **ip)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) == 50  # the rest of the minute window
    assert Subscription.objects.count() == 10
    # Another shopper behind the same Shopify edge (another appended address) is not affected.
    other = {"HTTP_X_FORWARDED_FOR": "10.9.9.9, 198.51.100.9", "REMOTE_ADDR": "10.0.0.1"}
    assert subscribe(client, _email(100), **other).status_code == 201


def _flood(client: Client, forwarded: list[str], *, first: int = 0) -> list[int]:
    """POST one fresh signup per X-Forwarded-For value; the status codes, in order."""
    return [subscribe(client, _email(first + n), HTTP_X_FORWARDED_FOR=value,
                      REMOTE_ADDR="10.0.0.1").status_code
            for n, value in enumerate(forwarded)]


@pytest.mark.django_db
def test_rotating_the_client_written_hops_does_not_escape_the_limit(
    client: Client, sold_out_variant: Variant
) -> None:
    codes = _flood(client, [f"198.18.0.{n}, 203.0.113.7" for n in range(11)])
    assert codes == [201] * 10 + [429]


@pytest.mark.django_db
def test_ipv4_mapped_ipv6_is_the_same_address(client: Client,
                                              sold_out_variant: Variant) -> None:
    spellings = ["203.0.113.7", "::ffff:203.0.113.7", "::FFFF:cb00:7107",
                 "[::ffff:203.0.113.7]:443", "203.0.113.7:5555"]
    codes = _flood(client, [spellings[n % len(spellings)] for n in range(11)])
    assert codes == [201] * 10 + [429]


@pytest.mark.django_db
def test_ipv6_is_limited_per_64(client: Client, sold_out_variant: Variant) -> None:
    codes = _flood(client, [f"2001:db8:1:2:{n:x}::{n + 1:x}" for n in range(11)])
    assert codes == [201] * 10 + [429]
    # The neighbouring /64 is someone else.
    assert _flood(client, ["2001:db8:1:3::1"], first=100) == [201]


@pytest.mark.django_db
@pytest.mark.parametrize("garbage", ["not-an-ip", "", " , ", "::::", "1.2.3.4.5", "\x00",
                                     "[2001:db8::1", "9" * 5000, "," * 5000, "%" * 300])
def test_garbage_forwarded_for_falls_back_to_the_peer_never_500(
    client: Client, sold_out_variant: Variant, garbage: str
) -> None:
    codes = _flood(client, [garbage] * 11)  # REMOTE_ADDR 10.0.0.1 is the bucket
    assert codes == [201] * 10 + [429]
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=garbage, REMOTE_ADDR="10.0.0.1")
    assert abuse.client_ip(request) == "10.0.0.1"


@pytest.mark.django_db
@override_settings(NOTIFYME_TRUSTED_PROXY_HOPS=2)
def test_a_load_balancer_of_ours_adds_a_trusted_hop(client: Client,
                                                    sold_out_variant: Variant) -> None:
    # client-written, then Shopify's (the shopper), then our load balancer's (Shopify's edge).
    codes = _flood(client, [f"198.18.0.{n}, 203.0.113.7, 23.227.38.{n}" for n in range(11)])
    assert codes == [201] * 10 + [429]
    # Fewer entries than trusted hops: not through the chain, so the peer is the bucket.
    factory = RequestFactory()
    request = factory.get("/", HTTP_X_FORWARDED_FOR="203.0.113.8", REMOTE_ADDR="10.0.0.2")
    assert abuse.client_ip(request) == "10.0.0.2"


@pytest.mark.django_db
@override_settings(NOTIFYME_TRUSTED_PROXY_HOPS=0)
def test_no_trusted_hops_uses_the_connecting_peer_only() -> None:
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="203.0.113.7",
                                   REMOTE_ADDR="::ffff:10.0.0.3")
    assert abuse.client_ip(request) == "10.0.0.3"


@pytest.mark.django_db
def test_invalid_requests_count_against_the_ip_limit(client: Client,
                                                     sold_out_variant: Variant) -> None:
    for _ in range(10):
        assert subscribe(client, {"variant_id": "junk"}).status_code == 400
    assert subscribe(client, _email(1)).status_code == 429


def test_client_ip_is_the_hop_the_trusted_proxy_appended() -> None:
    factory = RequestFactory()
    request = factory.get("/", HTTP_X_FORWARDED_FOR=" 10.0.0.1 , 2001:DB8::1 ",
                          REMOTE_ADDR="10.0.0.1")
    assert abuse.client_ip(request) == "2001:db8::1"
    assert abuse.ip_bucket("2001:db8::1") == "2001:db8::/64"
    assert abuse.ip_bucket("::ffff:192.0.2.1") == "192.0.2.1"
    request = factory.get("/", HTTP_X_FORWARDED_FOR="203.0.113.5, not-an-ip",
                          REMOTE_ADDR="10.0.0.2")
    assert abuse.client_ip(request) == "10.0.0.2"
    assert abuse.client_ip(factory.get("/", REMOTE_ADDR="10.0.0.3")) == "10.0.0.3"
    assert abuse.client_ip(factory.get("/", REMOTE_ADDR="")) == "unknown"


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
