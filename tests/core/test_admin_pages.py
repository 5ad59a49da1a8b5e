"""Support staff start in the Django admin: every model of ours is there, lists and searches."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from tests.factories import variant_make

OUR_APPS = {"shops", "catalog", "subscriptions", "sync", "restocks", "klaviyo"}
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
