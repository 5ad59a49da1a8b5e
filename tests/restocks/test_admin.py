"""Support admin: restock list with progress, the catalog variant admin's stock actions
("Simulate restock", "Sell out": catalog services, restock detection on the catalog's hook)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from notifyme.restocks.models import Restock, StockWatch
from tests.fixtures.shopify import make_shop, make_variant
from tests.restocks.conftest import add_subscribers, set_settings

VARIANTS = "/admin/catalog/variant/"


@pytest.fixture
def staff(db: None) -> Client:
    user = User.objects.create_superuser("support", "support@example.com", "pw-support-123")
    client = Client()
    client.force_login(user)
    return client


def test_simulate_restock_action_and_restock_list(staff: Client) -> None:
    shop = make_shop()
    variant = make_variant(shop, quantity=0)
    add_subscribers(shop, variant, 4)
    response = staff.post("/admin/catalog/variant/", {
        "action": "simulate_restock", "_selected_action": [variant.pk]}, follow=True)
    assert response.status_code == 200
    restock = Restock.objects.get()
    assert f"restock #{restock.pk} started: 4 subscribers" in response.content.decode()
    listing = staff.get("/admin/restocks/restock/").content.decode()
    assert "0 / 4 (0 %)" in listing
    detail = staff.get(f"/admin/restocks/restockdelivery/?restock__id__exact={restock.pk}")
    assert detail.status_code == 200
    staff.post("/admin/restocks/restock/", {"action": "cancel",
                                            "_selected_action": [restock.pk]})
    restock.refresh_from_db()
    assert restock.state == Restock.State.CANCELLED and restock.skipped == 4


def test_simulated_restock_brings_back_at_least_the_threshold(staff: Client) -> None:
    shop = make_shop()
    variant = make_variant(shop, quantity=3)
    set_settings(shop, threshold=25)
    add_subscribers(shop, variant, 2)
    response = staff.post(VARIANTS, {"action": "simulate_restock",
                                     "_selected_action": [variant.pk]}, follow=True)
    restock = Restock.objects.get()
    assert f"restock #{restock.pk} started: 2 subscribers" in response.content.decode()
    variant.refresh_from_db()
    assert variant.available_quantity == 25 == restock.quantity


def test_sell_out_action_and_stock_is_read_only_in_the_form(staff: Client) -> None:
    variant = make_variant(make_shop(), quantity=8)
    response = staff.post(VARIANTS, {"action": "sell_out", "_selected_action": [variant.pk]},
                          follow=True)
    assert "no restock: quantity 0 is not in stock" in response.content.decode()
    variant.refresh_from_db()
    assert variant.available_quantity == 0 and StockWatch.objects.get(variant=variant).armed
    form = staff.get(f"{VARIANTS}{variant.pk}/change/").content.decode()
    assert 'name="available_quantity"' not in form  # stock changes only through services
