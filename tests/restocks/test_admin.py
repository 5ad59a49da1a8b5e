"""Support admin: restock list with progress, the catalog variant admin's stock actions
("Simulate restock", "Sell out": catalog services, restock detection on the catalog's hook),
and every action and form save going through a service."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client

from notifyme.restocks import admin as admin_module
from notifyme.restocks.models import Restock, RestockSettings, StockWatch
from notifyme.restocks.services import restock_settings_update
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


def test_settings_form_saves_through_the_service(staff: Client, monkeypatch) -> None:
    shop = make_shop()
    settings = set_settings(shop, threshold=1)
    calls: list[dict] = []
    real = admin_module.restock_settings_update

    def spy(**kwargs: object) -> RestockSettings:
        calls.append(kwargs)
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(admin_module, "restock_settings_update", spy)
    url = f"/admin/restocks/restocksettings/{settings.pk}/change/"
    form = {"threshold": "5", "cooldown_hours": "24", "send_mode": "batched",
            "subscribers_per_unit": "5", "batch_interval_minutes": "10"}
    assert staff.post(url, form).status_code == 302
    assert calls == [{"shop": shop, "threshold": 5, "send_mode": "batched"}]
    settings.refresh_from_db()
    assert (settings.threshold, settings.send_mode) == (5, "batched")
    assert staff.get("/admin/restocks/restocksettings/add/").status_code == 403


def test_restock_settings_update_validates(db: None) -> None:
    shop = make_shop()
    with pytest.raises(ValidationError):
        restock_settings_update(shop=shop, send_mode="sometimes")
    with pytest.raises(TypeError, match="not a restock setting"):
        restock_settings_update(shop=shop, shop_id=2)
    assert restock_settings_update(shop=shop, cooldown_hours=2).cooldown_hours == 2


def test_variant_form_changes_policy_through_the_stock_service(staff: Client) -> None:
    """Turning "continue selling" off for a sold-out variant is a stock write (it is armed)."""
    variant = make_variant(make_shop(), quantity=0, policy="continue")
    form = {"product": variant.product_id, "title": "Large", "sku": variant.sku,
            "price": "49.00", "image_url": "", "inventory_tracked": "on",
            "inventory_policy": "deny", "shopify_updated_at_0": "", "shopify_updated_at_1": ""}
    response = staff.post(f"{VARIANTS}{variant.pk}/change/", form, follow=True)
    assert "no restock: quantity 0 is not in stock" in response.content.decode()
    variant.refresh_from_db()
    assert variant.inventory_policy == "deny" and StockWatch.objects.get(variant=variant).armed


def test_cancel_action_calls_the_restock_service(staff: Client, monkeypatch) -> None:
    cancelled: list[int] = []
    monkeypatch.setattr(admin_module, "restock_cancel",
                        lambda *, restock: cancelled.append(restock.pk) or 0)
    shop = make_shop()
    variant = make_variant(shop, quantity=0)
    add_subscribers(shop, variant, 1)
    staff.post(VARIANTS, {"action": "simulate_restock", "_selected_action": [variant.pk]})
    restock = Restock.objects.get()
    staff.post("/admin/restocks/restock/", {"action": "cancel", "_selected_action": [restock.pk]})
    assert cancelled == [restock.pk]
