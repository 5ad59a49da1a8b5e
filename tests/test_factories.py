"""The bulk factory writes rows in exactly the state the services write them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import models

from notifyme.subscriptions.models import Subscription
from notifyme.sync.models import OutboxItem
from tests.factories import shop_make, subscription_make, subscriptions_bulk_make, variant_make

pytestmark = pytest.mark.django_db
# Differ by construction: identity, the clock, the random token, the variant each row is for.
UNCOMPARED = {"id", "created_at", "updated_at", "unsubscribe_token", "variant", "subscription",
              "available_at"}


def _fields(row: models.Model) -> dict[str, Any]:
    """Every stored column; datetimes only as set / not set (the clock differs)."""
    values: dict[str, Any] = {}
    for field in row._meta.concrete_fields:
        if field.name in UNCOMPARED:
            continue
        value = getattr(row, field.attname)
        values[field.name] = (value is not None) if isinstance(
            field, models.DateTimeField) else value
    return values


@pytest.mark.parametrize(("phone_every", "consent_every"), [(0, 0), (1, 1)])
def test_a_bulk_made_signup_equals_a_service_made_one_field_by_field(
    phone_every: int, consent_every: int
) -> None:
    shop = shop_make()
    by_service, by_bulk = variant_make(shop, shopify_id=1), variant_make(shop, shopify_id=2)
    [bulk] = subscriptions_bulk_make(shop, by_bulk, 1, first_name="Ada", locale="en-US",
                                     phone_every=phone_every, consent_every=consent_every,
                                     sms_consent_every=consent_every)
    made = subscription_make(
        shop, by_service, email=bulk.email, phone=bulk.phone, first_name="Ada", locale="en-US",
        marketing_consent=bool(consent_every), consent_text_version="v1",
        sms_consent=bool(consent_every), sms_consent_text_version="sms-v1")
    stored_bulk = Subscription.objects.get(pk=bulk.pk)
    stored_made = Subscription.objects.get(pk=made.pk)
    assert _fields(stored_bulk) == _fields(stored_made)
    outbox_bulk = OutboxItem.objects.get(subscription=stored_bulk)
    outbox_made = OutboxItem.objects.get(subscription=stored_made)
    assert _fields(outbox_bulk) == _fields(outbox_made)


def test_bulk_made_signups_follow_the_requested_mix() -> None:
    shop = shop_make()
    made = subscriptions_bulk_make(shop, variant_make(shop), 50, consent_every=2, phone_every=5)
    assert Subscription.objects.filter(marketing_consent=True).count() == 25
    assert Subscription.objects.exclude(phone="").count() == 10
    assert OutboxItem.objects.filter(subscription__in=made, kind="profile_sync").count() == 50
