"""The admin actions support staff use: unsubscribe selected, re-queue sync."""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.klaviyo.client import Attempt
from integrations.klaviyo.services import attempt_recorder
from notifyme.catalog.models import Variant
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_create
from notifyme.sync.models import OutboxItem

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/subscriptions/subscription/"


def test_changelist_and_search_render(admin_client: Client, shop: Shop,
                                      sold_out_variant: Variant) -> None:
    subscription_create(shop=shop, variant=sold_out_variant, email="ada@example.com")
    response = admin_client.get(CHANGELIST, {"q": "ada@"})
    assert response.status_code == 200
    assert "ada@example.com" in response.content.decode()


def test_unsubscribe_and_requeue_actions(admin_client: Client, shop: Shop,
                                         sold_out_variant: Variant) -> None:
    first, _ = subscription_create(shop=shop, variant=sold_out_variant, email="a@example.com")
    second, _ = subscription_create(shop=shop, variant=sold_out_variant, email="b@example.com")
    admin_client.post(CHANGELIST, {"action": "unsubscribe_selected",
                                   "_selected_action": [first.pk]})
    first.refresh_from_db()
    assert first.status == Subscription.Status.UNSUBSCRIBED
    admin_client.post(CHANGELIST, {"action": "requeue_sync",
                                   "_selected_action": [first.pk, second.pk]})
    kinds = OutboxItem.objects.filter(subscription=second).values_list("kind", flat=True)
    assert list(kinds) == [OutboxItem.Kind.PROFILE_SYNC] * 2
    first_kinds = OutboxItem.objects.filter(subscription=first).order_by("id")
    assert list(first_kinds.values_list("kind", flat=True)) == [
        OutboxItem.Kind.PROFILE_SYNC, OutboxItem.Kind.UNSUBSCRIBE,  # no re-sync once ended
    ]


def test_change_page_links_to_the_subscribers_klaviyo_calls(
    admin_client: Client, shop: Shop, sold_out_variant: Variant
) -> None:
    mine, _ = subscription_create(shop=shop, variant=sold_out_variant, email="a@example.com")
    other, _ = subscription_create(shop=shop, variant=sold_out_variant, email="b@example.com")
    for ids, path in (([mine.pk], "/api/profiles/mine"), ([other.pk], "/api/profiles/other"),
                      ([mine.pk, other.pk], "/api/lists/both")):
        record = attempt_recorder(shop=shop, subscription_ids=ids)  # what the engine uses
        record(Attempt(operation="upsert_profile", method="POST", path=path, status=200,
                       duration_ms=5))
    page = admin_client.get(f"{CHANGELIST}{mine.pk}/change/").content.decode()
    link = f"/admin/klaviyo/syncattempt/?links__subscription_id={mine.pk}"
    assert link in page
    calls = admin_client.get(link).content.decode()
    assert "/api/profiles/mine" in calls and "/api/lists/both" in calls  # batch calls too
    assert "/api/profiles/other" not in calls
