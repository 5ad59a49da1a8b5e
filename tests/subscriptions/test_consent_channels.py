"""Email and SMS marketing consent are separate choices, as a new shopper makes them on the
storefront: each is recorded with its own wording version and time, and reaches Klaviyo only for
its own channel (signed proxy POST → sync → the sandbox's consent records)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from notifyme.subscriptions.models import Subscription
from notifyme.sync import engine
from tests.fixtures.sandbox import SandboxHandle
from tests.subscriptions.helpers import field_errors, subscribe
from tests.sync.conftest import Merchant, make_merchant

PHONE = "+14155550142"
SIGNUP: dict[str, Any] = {"variant_id": 4001, "email": "zoe@shop.test", "phone": PHONE}
EMAIL_OK = {"marketing_consent": True, "consent_text_version": "email-v2"}
SMS_OK = {"sms_consent": True, "sms_consent_text_version": "sms-v1"}


@pytest.fixture
def merchant(db: None, klaviyo_sandbox: SandboxHandle) -> Merchant:
    return make_merchant(klaviyo_sandbox)


def _consents(merchant: Merchant) -> set[str]:
    return {c["channel"] for c in merchant.admin.subscriptions(merchant.account_id)}


def _signed_up(client: Client, merchant: Merchant, body: dict[str, Any]) -> Subscription:
    response = subscribe(client, body, shop_domain=merchant.shop.domain)
    assert response.status_code == 201, response.content
    engine.run_shop(merchant.shop.pk, "sync")
    sub = Subscription.objects.get()
    assert sub.sync_state == "synced", sub.sync_error
    return sub


def test_phone_with_only_email_consent_gets_no_sms_marketing(client: Client,
                                                            merchant: Merchant) -> None:
    sub = _signed_up(client, merchant, {**SIGNUP, **EMAIL_OK})
    assert (sub.marketing_consent, sub.consent_text_version) == (True, "email-v2")
    assert sub.consented_at is not None
    assert (sub.sms_consent, sub.sms_consent_text_version, sub.sms_consented_at) == (
        False, "", None)
    assert _consents(merchant) == {"email"}
    assert merchant.members() == [sub.klaviyo_profile_id]  # the alert itself is on the list


def test_sms_consent_subscribes_sms_marketing_too(client: Client, merchant: Merchant) -> None:
    sub = _signed_up(client, merchant, {**SIGNUP, **EMAIL_OK, **SMS_OK})
    assert (sub.sms_consent, sub.sms_consent_text_version) == (True, "sms-v1")
    assert sub.sms_consented_at is not None
    assert _consents(merchant) == {"email", "sms"}


def test_sms_consent_alone_gives_no_email_marketing(client: Client, merchant: Merchant) -> None:
    sub = _signed_up(client, merchant, {**SIGNUP, **SMS_OK})
    assert not sub.marketing_consent and sub.consent_text_version == ""
    assert _consents(merchant) == {"sms"}


def test_no_box_ticked_means_no_marketing_at_all(client: Client, merchant: Merchant) -> None:
    _signed_up(client, merchant, {**SIGNUP, "consent_text_version": "email-v2",
                                  "sms_consent_text_version": "sms-v1"})
    assert _consents(merchant) == set()


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "field"), [
    ({"variant_id": 4001, "email": "zoe@shop.test", **SMS_OK}, "sms_consent"),
    ({"variant_id": 4001, "phone": PHONE, **EMAIL_OK}, "marketing_consent"),
    ({**SIGNUP, "sms_consent": True}, "sms_consent_text_version"),
    ({**SIGNUP, "sms_consent": "maybe", "sms_consent_text_version": "s"}, "sms_consent"),
    ({**SIGNUP, **SMS_OK, "sms_consent_text_version": "v" * 65}, "sms_consent_text_version"),
], ids=["sms-without-phone", "email-without-email", "sms-without-version", "sms-not-bool",
        "sms-version-too-long"])
def test_consent_without_its_channel_is_400_naming_it(
    client: Client, sold_out_variant: object, body: dict[str, Any], field: str
) -> None:
    response = subscribe(client, body)
    assert response.status_code == 400, response.content
    assert field in field_errors(response)
    assert Subscription.objects.count() == 0
