"""Every URL of the board part is for signed-in staff only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.factories import shop_make
from tests.fixtures.shopify import id_token

DOMAIN = "demo-shop.myshopify.com"
URLS = ["/support/", f"/support/shops/{DOMAIN}/", "/support/errors/",
        "/support/errors/klaviyo/invalid_key/", "/support/?status=action&q=demo"]


@pytest.fixture
def shop(db: None) -> None:
    shop_make(DOMAIN)


@pytest.mark.parametrize("url", URLS)
def test_anonymous_is_sent_to_the_login(shop: None, url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/support/")


@pytest.mark.parametrize("url", URLS)
def test_a_signed_in_non_staff_user_gets_403(shop: None, non_staff: Client, url: str) -> None:
    response = non_staff.get(url)
    assert response.status_code == 403
    assert DOMAIN not in response.content.decode()


@pytest.mark.parametrize("url", URLS)
def test_a_merchant_id_token_opens_nothing(shop: None, url: str) -> None:
    response = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {id_token(DOMAIN)}")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", URLS)
def test_staff_see_the_page(shop: None, staff: Client, url: str) -> None:
    response = staff.get(url)
    assert response.status_code == 200
    assert "notifyme support" in response.content.decode()


def test_the_pages_only_read(shop: None, staff: Client) -> None:
    assert staff.post("/support/").status_code == 405
    assert staff.post(f"/support/shops/{DOMAIN}/").status_code == 405


def test_the_login_round_trip_lands_on_the_board(shop: None) -> None:
    User.objects.create_user("eng", "eng@example.com", "pw-eng-12345", is_staff=True)
    client = Client()
    login = client.get(f"/support/shops/{DOMAIN}/", follow=True)
    login_url = login.redirect_chain[-1][0]
    assert login_url.startswith("/admin/login/")
    landed = client.post(login_url, {"username": "eng", "password": "pw-eng-12345",
                                     "next": f"/support/shops/{DOMAIN}/"}, follow=True)
    assert landed.redirect_chain[-1][0] == f"/support/shops/{DOMAIN}/"
    assert DOMAIN in landed.content.decode()


def test_the_shop_page_offers_the_staff_actions(shop: None, staff: Client) -> None:
    """The actions part (notifyme/support/action_urls.py) is installed: its buttons are on the
    shop page, each posting to its own route."""
    page = staff.get(f"/support/shops/{DOMAIN}/").content.decode()
    for action in ("reverify", "pause", "reconcile"):
        assert f'action="/support/shops/{DOMAIN}/{action}"' in page, action
    assert f"/support/shops/{DOMAIN}/retry/preview" in page
