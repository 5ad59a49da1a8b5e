"""`/support/metrics`: who may read it, and figures that follow what really happened (a 429
from the Klaviyo sandbox, a THROTTLED Shopify, a webhook waiting, a queued job)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from integrations.shopify import tokens
from integrations.shopify.client import AdminClient
from integrations.shopify.documents import SHOP_INFO
from notifyme.delivery import nudges
from notifyme.sync import engine
from notifyme.webhooks import processing
from notifyme.webhooks.models import WebhookEvent
from tests.core.test_production_settings import PRODUCTION, _manage
from tests.fixtures.shopify import id_token, make_shop, signed_webhook
from tests.fixtures.shopify_scripted import ScriptedShopify
from tests.sync.conftest import Merchant, add_subscribers, drain, make_merchant

URL = "/support/metrics"
SCRAPER_TOKEN = "scraper-secret-0123456789abcdef"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of the exposition: {(name, sorted labels): value}."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@pytest.fixture
def scraper(settings: Any) -> Client:
    settings.METRICS_TOKEN = SCRAPER_TOKEN
    return Client(HTTP_AUTHORIZATION=f"Bearer {SCRAPER_TOKEN}")


def scrape(client: Client) -> Samples:
    response = client.get(URL)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return parse(response.content.decode())


@pytest.fixture
def merchant(db: None, klaviyo_sandbox: Any) -> Merchant:
    return make_merchant(klaviyo_sandbox)


# -- who may read it --------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_staff_login(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/support/metrics")


@pytest.mark.django_db
def test_a_signed_in_non_staff_user_is_refused(client: Client) -> None:
    client.force_login(User.objects.create_user("merchant-user", password="x" * 12))
    response = client.get(URL)
    assert response.status_code == 403 and b"notifyme_" not in response.content


@pytest.mark.django_db
def test_staff_sessions_read_the_metrics(client: Client) -> None:
    client.force_login(User.objects.create_user("support", password="x" * 12, is_staff=True))
    samples = scrape(client)
    assert value(samples, "notifyme_up", source="database") == 1.0


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["wrong-token", f"{SCRAPER_TOKEN}x", ""])
def test_a_wrong_bearer_gets_a_json_401_not_the_metrics(settings: Any, token: str) -> None:
    settings.METRICS_TOKEN = SCRAPER_TOKEN
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_a_merchants_id_token_opens_nothing(settings: Any) -> None:
    settings.METRICS_TOKEN = SCRAPER_TOKEN
    make_shop()
    merchant = Client(HTTP_AUTHORIZATION=f"Bearer {id_token('demo-shop.myshopify.com')}")
    response = merchant.get(URL)
    assert response.status_code == 401 and b"notifyme_" not in response.content


@pytest.mark.django_db
def test_without_metrics_token_no_bearer_works(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    response = Client(HTTP_AUTHORIZATION="Bearer ").get(URL)
    assert response.status_code == 401


@pytest.mark.django_db
def test_the_scraper_token_opens_it_and_only_get_is_allowed(scraper: Client) -> None:
    assert scrape(scraper)
    refused = scraper.post(URL)
    assert refused.status_code == 405 and refused["Allow"] == "GET, HEAD"


# -- what it says -----------------------------------------------------------------------------


def test_a_429_then_the_recovery_show_in_the_figures(merchant: Merchant,
                                                     scraper: Client) -> None:
    add_subscribers(merchant, 3)
    merchant.admin.set_faults(merchant.account_id, next_errors=[429], retry_after=True,
                              retry_after_seconds=3)
    engine.run_shop(merchant.shop.pk, "sync")  # Klaviyo answers 429: rows wait, account cools

    during = scrape(scraper)
    assert value(during, "notifyme_klaviyo_429_last_hour") == 1.0
    assert value(during, "notifyme_klaviyo_attempts_last_hour", outcome="rate_limited") == 1.0
    assert value(during, "notifyme_klaviyo_accounts_cooling_down") == 1.0
    assert value(during, "notifyme_outbox_items", kind="profile_sync", state="pending") == 3.0
    assert value(during, "notifyme_outbox_due") == 0.0  # they wait out the cool-down
    assert value(during, "notifyme_backlog_age_seconds") >= 0.0
    assert value(during, "notifyme_delayed_nudges") >= 1.0
    assert value(during, "notifyme_subscriptions", status="active", sync_state="pending") == 3.0
    assert value(during, "notifyme_klaviyo_connections", status="connected") == 1.0
    assert value(during, "notifyme_shops", state="installed", auth_state="ok") == 1.0

    drain(merchant.shop.pk, lane="sync", timeout=30)
    after = scrape(scraper)
    assert value(after, "notifyme_subscriptions", status="active", sync_state="synced") == 3.0
    assert ("notifyme_subscriptions", (("status", "active"), ("sync_state", "pending"))) \
        not in after
    assert value(after, "notifyme_outbox_items", kind="profile_sync", state="done") == 3.0
    assert value(after, "notifyme_backlog_age_seconds") == 0.0
    assert value(after, "notifyme_klaviyo_attempts_last_hour", outcome="ok") >= 1.0
    assert value(after, "notifyme_klaviyo_429_last_hour") == 1.0


@pytest.mark.django_db
def test_shopify_throttled_answers_are_counted(scripted_shopify: ScriptedShopify,
                                               scraper: Client) -> None:
    shop = make_shop("throttled-shop.myshopify.com")
    tokens.tokens_store(shop=shop, grant=tokens.token_exchange(
        shop_domain=shop.domain, id_token="id"))
    assert value(scrape(scraper), "notifyme_shopify_throttled_total") == 0.0
    scripted_shopify.script.throttle_next = 2
    AdminClient(shop).run(SHOP_INFO)  # waits and resends twice, then succeeds
    assert value(scrape(scraper), "notifyme_shopify_throttled_total") == 2.0


@pytest.mark.django_db
def test_a_waiting_webhook_shows_as_lag_until_processed(client: Client,
                                                        scraper: Client) -> None:
    make_shop()
    body, headers = signed_webhook("products/delete", {"id": 1},
                                   shop_domain="demo-shop.myshopify.com")
    assert client.post("/webhooks/shopify", body, content_type="application/json",
                       **headers).status_code == 200
    # By hand, only the clock: the delivery arrived two minutes ago and no worker took it.
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(minutes=2))
    waiting = scrape(scraper)
    assert value(waiting, "notifyme_webhooks_pending") == 1.0
    assert 110.0 <= value(waiting, "notifyme_webhook_lag_seconds") <= 600.0

    processing.process_shop("demo-shop.myshopify.com")
    done = scrape(scraper)
    assert value(done, "notifyme_webhooks_pending") == 0.0
    assert value(done, "notifyme_webhook_lag_seconds") == 0.0
    assert value(done, "notifyme_webhook_processing_seconds_max") >= 110.0


@pytest.mark.django_db
def test_queue_depth_follows_the_queues(scraper: Client) -> None:
    before = scrape(scraper)
    assert value(before, "notifyme_queue_jobs", queue="bulk", registry="queued") == 0.0
    nudges.queue("bulk").enqueue("notifyme.sync.jobs.sync_shop", 999999)
    after = scrape(scraper)
    assert value(after, "notifyme_queue_jobs", queue="bulk", registry="queued") == 1.0
    assert value(after, "notifyme_up", source="redis") == 1.0


@pytest.mark.django_db
def test_redis_down_still_answers_with_the_database_figures(scraper: Client,
                                                            settings: Any) -> None:
    settings.RQ_QUEUES = {name: {**conf, "URL": "redis://127.0.0.1:1/0?socket_connect_timeout=1"}
                          for name, conf in settings.RQ_QUEUES.items()}
    samples = scrape(scraper)
    assert value(samples, "notifyme_up", source="redis") == 0.0
    assert value(samples, "notifyme_up", source="database") == 1.0
    assert not any(name == "notifyme_queue_jobs" for name, _ in samples)


def test_production_refuses_a_guessable_metrics_token() -> None:
    short = _manage("check", **{**PRODUCTION, "METRICS_TOKEN": "metrics"})
    assert short.returncode != 0 and "METRICS_TOKEN must be at least 24" in short.stderr
    good = _manage("check", **{**PRODUCTION, "METRICS_TOKEN": SCRAPER_TOKEN})
    assert good.returncode == 0, good.stderr
