"""Support admin: restock list with progress, the variant's "Simulate restock" action."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from notifyme.restocks.models import Restock
from tests.fixtures.shopify import make_shop, make_variant
from tests.restocks.conftest import add_subscribers


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
