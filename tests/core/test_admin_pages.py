"""Support staff start in the Django admin: every model of ours is there, lists and searches;
rows only services write are read-only."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.urls import reverse

from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt
from notifyme.catalog.services import variant_simulate_restock
from notifyme.catalog.sync_models import CatalogSync, CatalogSyncSeen
from notifyme.restocks.models import Restock, RestockDelivery, StockWatch
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.sync.models import ImportBatch, OutboxItem
from notifyme.webhooks.models import WebhookEvent
from tests.factories import subscription_make, variant_make

OUR_APPS = {"shops", "catalog", "subscriptions", "sync", "restocks", "klaviyo", "webhooks",
            "revenue", "waitlists", "support"}
OUR_MODELS = [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m.__name__)
def test_every_model_is_registered(model: type) -> None:
    assert model in admin.site._registry


@pytest.mark.django_db
@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m.__name__)
def test_changelist_and_search_render(client: Client, shop: object, model: type) -> None:
    variant_make(shop, shopify_id=4001)  # type: ignore[arg-type]
    client.force_login(User.objects.create_superuser("support", "s@example.com", "pw"))
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "4001"}).status_code == 200


#: Rows only services write (work rows, the call log, signups, shops): staff never edit them.
READ_ONLY = [Shop, Subscription, OutboxItem, ImportBatch, Restock, RestockDelivery, StockWatch,
             SyncAttempt, KlaviyoConnection, WebhookEvent,
             CatalogSync, CatalogSyncSeen]


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_work_rows_and_the_call_log_cannot_be_added_changed_or_deleted(
        rf: RequestFactory, model: type) -> None:
    request = rf.get("/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


@pytest.mark.django_db
def test_work_row_pages_render_read_only(client: Client, shop: Shop) -> None:
    variant = variant_make(shop, shopify_id=4001)
    subscription_make(shop, variant)
    variant_simulate_restock(variant=variant)  # a restock, its delivery, the stock watch
    client.force_login(User.objects.create_superuser("support", "s@example.com", "pw"))
    rows = [shop, Subscription.objects.get(), OutboxItem.objects.get(), Restock.objects.get(),
            RestockDelivery.objects.get(), StockWatch.objects.get()]
    for row in rows:
        meta = row._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row.pk])
        page = client.get(url)
        assert page.status_code == 200, url
        assert 'name="_save"' not in page.content.decode(), url
        assert client.post(url, {}).status_code == 403, url
        add = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
        assert client.get(add).status_code == 403, add
    page = client.get(reverse("admin:shops_shop_change", args=[shop.pk])).content.decode()
    shop.refresh_from_db()
    for secret in (shop.get_access_token(), shop.get_refresh_token(),
                   shop.access_token_encrypted, shop.refresh_token_encrypted):
        assert secret and secret not in page
    assert "access_token_encrypted" not in page and "refresh_token_encrypted" not in page
