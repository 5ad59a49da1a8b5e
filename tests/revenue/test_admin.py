"""Support sees recovered orders and their attributed lines read-only, without the contact
digests; nobody edits or deletes them by hand."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from notifyme.revenue.models import RecoveredOrder
from tests.revenue.conftest import Store, order_payload

ORDERS = "/admin/revenue/recoveredorder/"


def test_support_sees_recovered_orders_read_only(store: Store) -> None:
    store.order(order_payload(8001, at=timezone.now() + timedelta(hours=1),
                              email="cyd@example.com", lines=[(4001, 2, "49.00")]))
    staff = Client()
    staff.force_login(User.objects.create_superuser("support", "s@example.com", "pw-123456"))
    listing = staff.get(ORDERS)
    assert listing.status_code == 200 and "8001" in listing.content.decode()
    order = RecoveredOrder.objects.get()
    detail = staff.get(f"{ORDERS}{order.pk}/change/").content.decode()
    assert "98.00" in detail and "assisted" in detail.lower()
    assert order.email_digest not in detail  # the digest is not for support's eyes
    assert staff.post(f"{ORDERS}{order.pk}/delete/", {"post": "yes"}).status_code == 403
    assert staff.get(f"{ORDERS}add/").status_code == 403
    assert RecoveredOrder.objects.count() == 1
