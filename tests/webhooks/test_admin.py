"""Support sees every delivery, its state and its reason, read-only; failed events can be
queued again from the list (a service)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from notifyme.webhooks.models import WebhookEvent
from notifyme.webhooks.processing import process_shop
from notifyme.webhooks.topics import TOPICS
from tests.fixtures.shopify import make_shop

from .conftest import deliver

EVENTS = "/admin/webhooks/webhookevent/"


@pytest.fixture
def staff(db: None) -> Client:
    user = User.objects.create_superuser("support", "support@example.com", "pw-support-123")
    client = Client()
    client.force_login(user)
    return client


def test_support_sees_failed_and_ignored_events_read_only(staff: Client, client: Client) -> None:
    make_shop()
    deliver(client, "app/uninstalled", raw=b"{broken", webhook_id="wh-broken")
    deliver(client, "carts/update", webhook_id="wh-carts")
    listing = staff.get(EVENTS).content.decode()
    assert "the body is not JSON" in listing and "topic not handled by the app" in listing
    assert staff.get(f"{EVENTS}?q=wh-carts").content.decode().count("carts/update") >= 1
    event = WebhookEvent.objects.get(webhook_id="wh-broken")
    detail = staff.get(f"{EVENTS}{event.pk}/change/")
    assert detail.status_code == 200 and "the body is not JSON" in detail.content.decode()
    assert staff.get(f"{EVENTS}add/").status_code == 403
    staff.post(f"{EVENTS}{event.pk}/change/", {"state": "processed"})
    assert WebhookEvent.objects.get(pk=event.pk).state == "failed"  # not editable by hand
    staff.post(f"{EVENTS}{event.pk}/delete/", {"post": "yes"})
    assert WebhookEvent.objects.filter(pk=event.pk).exists()


def test_process_again_action(staff: Client, client: Client,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    make_shop()

    def broken(ctx: object) -> str:
        raise RuntimeError("a bug, since fixed")

    monkeypatch.setitem(TOPICS, "app/uninstalled", broken)
    deliver(client, "app/uninstalled")
    process_shop("demo-shop.myshopify.com")
    event = WebhookEvent.objects.get()
    assert event.state == "failed"
    response = staff.post(EVENTS, {"action": "retry_events", "_selected_action": [event.pk]},
                          follow=True)
    assert "1 event(s) queued again." in response.content.decode()
    event.refresh_from_db()
    assert (event.state, event.attempts) == ("pending", 0)
