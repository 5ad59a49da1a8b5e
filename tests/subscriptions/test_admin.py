"""The subscription admin support staff use: read-only rows, links to the rows about a
subscriber (deliveries, Klaviyo calls, the shopper page), unsubscribe and re-queue actions."""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.klaviyo.client import Attempt
from integrations.klaviyo.services import attempt_recorder
from notifyme.catalog.models import Variant
from notifyme.catalog.services import variant_simulate_restock
from notifyme.restocks.models import RestockDelivery
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


def test_change_page_is_read_only_and_links_deliveries_and_the_shopper_page(
    admin_client: Client, shop: Shop, sold_out_variant: Variant
) -> None:
    mine, _ = subscription_create(shop=shop, variant=sold_out_variant, email="a@example.com")
    subscription_create(shop=shop, variant=sold_out_variant, email="b@example.com")
    variant_simulate_restock(variant=sold_out_variant)  # a delivery for each
    assert RestockDelivery.objects.count() == 2
    url = f"{CHANGELIST}{mine.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="_save"' not in page and 'name="email"' not in page  # no editable form
    assert admin_client.post(url, {"email": "x@example.com"}).status_code == 403
    mine.refresh_from_db()
    assert mine.email == "a@example.com"

    assert f'href="/support/shoppers/{mine.pk}/"' in page
    deliveries = f"/admin/restocks/restockdelivery/?subscription__id__exact={mine.pk}"
    assert deliveries in page.replace("&amp;", "&")
    listed = admin_client.get(deliveries)
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 1
    assert [d.subscription_id for d in listed.context["cl"].result_list] == [mine.pk]
    shopper = admin_client.get(f"/support/shoppers/{mine.pk}/")
    assert shopper.status_code == 200 and "a@example.com" in shopper.content.decode()
