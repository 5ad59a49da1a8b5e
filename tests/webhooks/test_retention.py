"""Finished events are pruned after their retention; pending ones never."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from notifyme.shops.models import Shop
from notifyme.webhooks import retention
from notifyme.webhooks.models import WebhookEvent

from .conftest import deliver

pytestmark = pytest.mark.django_db


def test_prune_keeps_recent_failed_and_pending(client: Client, shop: Shop) -> None:
    deliver(client, "carts/update")  # ignored: a topic the app does not handle
    deliver(client, "app/uninstalled", raw=b"nope")  # failed
    deliver(client, "app/uninstalled")  # pending
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(days=10))
    assert retention.prune() == 1
    assert sorted(WebhookEvent.objects.values_list("state", flat=True)) == ["failed", "pending"]
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(days=31))
    assert retention.prune() == 1
    assert list(WebhookEvent.objects.values_list("state", flat=True)) == ["pending"]
