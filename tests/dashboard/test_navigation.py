"""Every merchant page carries the admin's app navigation (`<ui-nav-menu>`, which App Bridge
moves into the admin's sidebar) and, without App Bridge (the local admin stand-in), the same
entries as tabs; links keep the admin's query but never the one-minute ID token."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from notifyme.shops.models import Shop
from tests.fixtures.shopify import id_token, make_shop

pytestmark = pytest.mark.django_db
PAGES = ("/app/", "/app/demand", "/app/restocks")


def get(client: Client, shop: Shop, path: str, **params: str) -> str:
    response = client.get(path, {"id_token": id_token(shop.domain), "shop": shop.domain,
                                 "host": "YWRtaW4", "embedded": "1", **params})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("path", PAGES)
def test_app_bridge_navigation(client: Client, path: str) -> None:
    html = get(client, make_shop(), path)
    assert "https://cdn.shopify.com/shopifycloud/app-bridge.js" in html
    menu = re.search(r"<ui-nav-menu>(.*?)</ui-nav-menu>", html, re.S)
    assert menu is not None
    links = re.findall(r'<a href="([^"]+)"( rel="home")?>([^<]+)</a>', menu.group(1))
    assert links == [("/app/", ' rel="home"', "Settings"), ("/app/subscribers", "", "Subscribers"),
                     ("/app/demand", "", "Demand"), ("/app/restocks", "", "Restocks"),
                     ("/app/revenue", "", "Revenue")]
    assert 'class="app-nav"' not in html  # App Bridge shows the menu in the admin


@pytest.mark.parametrize("path", PAGES)
def test_tabs_without_app_bridge(client: Client, path: str) -> None:
    shop = make_shop()
    html = get(client, shop, path, dev_frame="1")
    assert "app-bridge.js" not in html
    nav = html.split('<nav class="app-nav"', 1)[1].split("</nav>", 1)[0]
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', nav)
    assert len(current) == 1 and current[0].startswith(path + "?")
    for href in re.findall(r'href="([^"]+)"', nav):
        href = href.replace("&amp;", "&")
        assert f"shop={shop.domain}" in href and "dev_frame=1" in href and "host=" in href
        assert "id_token" not in href
