"""POST /proxy/subscribe with a likely typo in the email's domain: accepted as typed, and the
answer carries `email_suggestion` (notifyme/subscriptions/typos.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.subscriptions.models import Subscription
from tests.subscriptions.helpers import subscribe

pytestmark = pytest.mark.django_db
BODY = {"variant_id": 4001}


def test_a_likely_typo_is_accepted_with_an_email_suggestion(
    client: Client, sold_out_variant: Variant
) -> None:
    """The shopper may really mean it: stored as typed, and the answer offers the fix."""
    response = subscribe(client, {**BODY, "email": "Jane@gmial.con"})
    assert response.status_code == 201
    assert response.json()["email_suggestion"] == "Jane@gmail.com"
    assert response.json()["status"] == "subscribed"
    assert Subscription.objects.get().email == "jane@gmial.con"
    again = subscribe(client, {**BODY, "email": "jane@gmial.con"})
    assert again.json()["status"] == "already_subscribed"
    assert again.json()["email_suggestion"] == "jane@gmail.com"
    fixed = subscribe(client, {**BODY, "email": "jane@gmail.com"})
    assert fixed.status_code == 201 and "email_suggestion" not in fixed.json()

