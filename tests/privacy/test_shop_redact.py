"""`shop/redact`: every row of the shop goes — subscriptions, catalog, restocks, sync rows,
the Klaviyo connection with its encrypted key, the tokens, the Shop row — except the audit rows;
another shop is untouched; a redelivery (or a shop already gone) only counts on the audit."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models

from integrations.klaviyo.models import KlaviyoConnection
from notifyme.privacy.models import ComplianceRequest
from notifyme.shops.models import Shop
from notifyme.shops.services import shop_uninstall
from notifyme.subscriptions.models import Subscription
from notifyme.webhooks.models import WebhookEvent
from tests.factories import subscription_make
from tests.fixtures.sandbox import SandboxHandle
from tests.privacy.conftest import (
    EMAIL,
    PHONE,
    SHOPPER_PAYLOAD,
    contact_keys,
    deliver,
    scan_database,
    scan_redis,
    shopper_everywhere,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _rows_naming(shop_id: int) -> dict[str, int]:
    """Rows of every model with a foreign key to Shop that still point at `shop_id`."""
    found = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.ForeignKey) and field.related_model is Shop:
                count = model._default_manager.filter(**{f"{field.name}_id": shop_id}).count()
                if count:
                    found[model._meta.label_lower] = count
    return found


def test_shop_redact_erases_everything_but_the_audit(klaviyo_sandbox: SandboxHandle) -> None:
    store = shopper_everywhere(klaviyo_sandbox)
    other = shopper_everywhere(klaviyo_sandbox, domain="other-shop.myshopify.com")
    shop = store.shop
    deliver("customers/data_request", {"customer": SHOPPER_PAYLOAD, "data_request": {"id": 1}},
            shop_domain=shop.domain)
    key = KlaviyoConnection.objects.get(shop=shop).private_key_encrypted
    assert key and _rows_naming(shop.pk)
    shop_uninstall(shop=shop)  # Shopify sends shop/redact 48 h after the uninstall

    outcome = deliver("shop/redact", {"shop_id": 1}, shop_domain=shop.domain)

    assert not Shop.objects.filter(domain=shop.domain).exists()
    assert _rows_naming(shop.pk) == {}  # the webhook log's rows are unlinked, not kept on it
    assert not KlaviyoConnection.objects.filter(private_key_encrypted=key).exists()
    assert not contact_keys(shop, EMAIL, PHONE)
    audits = ComplianceRequest.objects.filter(shop_domain=shop.domain)
    assert {a.topic for a in audits} == {"customers/data_request", "shop/redact"}
    assert {a.state for a in audits} == {ComplianceRequest.State.COMPLETED}
    assert all(a.shop_id is None and a.subject_encrypted == "" for a in audits)
    erased = audits.get(topic="shop/redact")
    assert erased.counts["subscriptions.subscription"] == 3
    assert erased.counts["klaviyo.klaviyoconnection"] == 1
    assert erased.state == ComplianceRequest.State.COMPLETED and "rows erased" in outcome
    # The other shop, with a shopper of the same email, is untouched.
    kept = Subscription.objects.filter(shop=other.shop)
    assert kept.count() == 3 and kept.filter(email=EMAIL).exists()
    assert KlaviyoConnection.objects.filter(shop=other.shop).exists()
    assert not scan_database(EMAIL, ignore=tuple(kept))
    record = WebhookEvent.objects.get(shop_domain=shop.domain)  # the request's own delivery
    assert record.topic == "shop/redact" and record.payload is None
    assert not scan_database(shop.domain, ignore=(*audits, record))
    assert not [hit for hit in scan_redis(EMAIL, PHONE)]

    again = deliver("shop/redact", {"shop_id": 1}, shop_domain=shop.domain)
    assert "nothing held for this shop" in again
    assert audits.get(topic="shop/redact").deliveries == 2


def test_a_redact_for_a_shop_never_seen_is_answered(db: None) -> None:
    outcome = deliver("shop/redact", {"shop_id": 5}, shop_domain="gone.myshopify.com")
    assert "nothing held" in outcome
    assert ComplianceRequest.objects.get().state == ComplianceRequest.State.COMPLETED


def test_a_subscription_written_by_another_shop_stays(klaviyo_sandbox: SandboxHandle) -> None:
    store = shopper_everywhere(klaviyo_sandbox)
    other = shopper_everywhere(klaviyo_sandbox, domain="other-shop.myshopify.com")
    late = subscription_make(other.shop, other.scarf, email="late@example.com")
    deliver("shop/redact", {}, shop_domain=store.shop.domain)
    assert Subscription.objects.filter(pk=late.pk).exists()
