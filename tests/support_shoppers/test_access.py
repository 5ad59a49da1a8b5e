"""Every shopper URL is for signed-in staff only: anonymous visitors go to the admin login, a
signed-in non-staff user gets 403, a merchant's App Bridge token opens nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from notifyme.subscriptions.services import subscription_create
from tests.factories import shop_make, variant_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls(db: None) -> list[str]:
    shop = shop_make()
    sub, _ = subscription_create(shop=shop, variant=variant_make(shop), email="ada@example.com")
    return ["/support/shoppers/", "/support/shoppers/?q=ada@example.com",
            f"/support/shoppers/{sub.pk}/", "/support/shoppers/999999/"]


def test_anonymous_visitors_are_sent_to_the_login(client: Client, urls: list[str]) -> None:
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(
            "/admin/login/?next="), url
        assert "ada@example.com" not in response.content.decode()


def test_a_merchant_token_opens_nothing(client: Client, urls: list[str],
                                        bearer: Any) -> None:
    for url in urls:
        response = client.get(url, **bearer("demo-shop.myshopify.com"))
        assert response.status_code == 302, url


def test_signed_in_non_staff_users_get_403(client: Client, urls: list[str],
                                           django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("merchant", password="pw-123456789")
    client.force_login(user)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "ada@example.com" not in response.content.decode()


def test_staff_see_them(client: Client, urls: list[str], django_user_model: Any) -> None:
    user = django_user_model.objects.create_user("support", password="pw-123456789",
                                                 is_staff=True)
    client.force_login(user)
    assert [client.get(url).status_code for url in urls] == [200, 200, 200, 404]
