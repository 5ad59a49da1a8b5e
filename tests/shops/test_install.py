"""`shop_install`: the one way a shop row is written (install and reinstall)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from notifyme.shops.models import Shop
from notifyme.shops.services import shop_install, shop_uninstall

pytestmark = pytest.mark.django_db


def test_install_normalises_the_domain_and_is_idempotent() -> None:
    shop = shop_install(domain="  Demo-Shop.MyShopify.com ", name="Demo", access_token="shpat_1")
    again = shop_install(domain="demo-shop.myshopify.com")
    assert again.pk == shop.pk and Shop.objects.count() == 1
    assert again.domain == "demo-shop.myshopify.com" and again.name == "Demo"
    assert again.get_access_token() == "shpat_1"  # a re-run without a token keeps it
    assert "shpat_1" not in again.access_token_encrypted
    assert again.installed_at == shop.installed_at


def test_reinstall_after_uninstall_starts_a_new_install() -> None:
    shop = shop_install(domain="demo-shop.myshopify.com")
    assert shop_uninstall(shop=shop) and not shop_uninstall(shop=shop)
    assert shop.state == Shop.State.UNINSTALLED and shop.uninstalled_at is not None
    again = shop_install(domain="demo-shop.myshopify.com")
    assert again.state == Shop.State.INSTALLED and again.uninstalled_at is None
    assert again.installed_at > shop.installed_at


def test_a_domain_that_is_not_a_shop_is_refused() -> None:
    with pytest.raises(ValidationError):
        shop_install(domain="evil.example.com")
    assert not Shop.objects.exists()
