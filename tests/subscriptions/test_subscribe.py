"""POST /proxy/subscribe: the contract the storefront block is written against."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_unsubscribe
from notifyme.sync.models import OutboxItem
from tests.fixtures.shopify import make_variant, signed_proxy_query
from tests.subscriptions.helpers import (
    SUBSCRIBE,
    field_errors,
    subscribe,
    subscribe_urlencoded,
)

pytestmark = pytest.mark.django_db
BODY = {"variant_id": 4001, "email": "Ada@Example.COM"}


def test_json_subscription_is_created_with_an_outbox_row(
    client: Client, shop: Shop, sold_out_variant: Variant
) -> None:
    response = subscribe(client, {
        **BODY, "marketing_consent": True, "consent_text_version": "v3", "locale": "fr-CA",
        "first_name": "Ada", "quantity": 2,
    })
    assert response.status_code == 201
    subscription = Subscription.objects.get()
    assert response.json() == {
        "status": "subscribed",
        "message": "We'll email you when Linen Shirt — Large is back in stock.",
        "subscription": {"id": subscription.pk, "variant_id": 4001, "channels": ["email"],
                         "status": "active"},
    }
    assert subscription.email == "ada@example.com"  # one contact whatever the case
    assert (subscription.shop, subscription.variant) == (shop, sold_out_variant)
    assert subscription.notify_by_email and not subscription.notify_by_sms
    assert subscription.marketing_consent and subscription.consent_text_version == "v3"
    assert subscription.consented_at is not None
    assert (subscription.locale, subscription.first_name) == ("fr-CA", "Ada")
    assert subscription.quantity_wanted == 2
    assert subscription.source == Subscription.Source.STOREFRONT
    assert subscription.status == Subscription.Status.ACTIVE
    assert subscription.sync_state == Subscription.SyncState.PENDING
    assert subscription.shopify_customer_id is None
    outbox = OutboxItem.objects.get()
    assert (outbox.subscription, outbox.kind) == (subscription, OutboxItem.Kind.PROFILE_SYNC)


def test_locale_with_an_underscore_is_normalised(client: Client,
                                                 sold_out_variant: Variant) -> None:
    assert subscribe(client, {**BODY, "locale": "pt_BR"}).status_code == 201
    assert Subscription.objects.get().locale == "pt-BR"


def test_without_consent_nothing_about_consent_is_stored(
    client: Client, sold_out_variant: Variant
) -> None:
    assert subscribe(client, {**BODY, "consent_text_version": "v3"}).status_code == 201
    subscription = Subscription.objects.get()
    assert not subscription.marketing_consent
    assert subscription.consented_at is None and subscription.consent_text_version == ""


def test_logged_in_customer_id_comes_from_the_signed_query(
    client: Client, shop: Shop, sold_out_variant: Variant
) -> None:
    query = signed_proxy_query(shop.domain, customer_id="7001")
    assert subscribe(client, {**BODY, "logged_in_customer_id": "1"}, query=query).status_code == 201
    assert Subscription.objects.get().shopify_customer_id == 7001


def test_multipart_form_like_fetch_formdata(client: Client, sold_out_variant: Variant) -> None:
    response = subscribe(client, {"variant_id": "4001", "email": "ada@example.com",
                                  "marketing_consent": "on", "consent_text_version": "v1",
                                  "website": ""}, form=True)
    assert response.status_code == 201, response.content
    assert Subscription.objects.get().marketing_consent


def test_urlencoded_form(client: Client, sold_out_variant: Variant) -> None:
    response = subscribe_urlencoded(
        client, "variant_id=4001&phone=%28415%29+555-2671&marketing_consent=false"
    )
    assert response.status_code == 201, response.content
    subscription = Subscription.objects.get()
    assert subscription.phone == "+14155552671"  # shop country US is the default hint
    assert subscription.notify_by_sms and not subscription.notify_by_email
    assert response.json()["subscription"]["channels"] == ["sms"]
    assert "We'll text you" in response.json()["message"]


def test_phone_uses_the_country_hint(client: Client, sold_out_variant: Variant) -> None:
    response = subscribe(client, {"variant_id": 4001, "phone": "06 12 34 56 78",
                                  "country": "fr"})
    assert response.status_code == 201, response.content
    assert Subscription.objects.get().phone == "+33612345678"


def test_phone_with_international_prefix_ignores_the_hint(
    client: Client, sold_out_variant: Variant
) -> None:
    response = subscribe(client, {"variant_id": 4001, "phone": "+44 7400 123456",
                                  "country": "US"})
    assert response.status_code == 201
    assert Subscription.objects.get().phone == "+447400123456"


def test_email_and_phone_give_both_channels(client: Client, sold_out_variant: Variant) -> None:
    response = subscribe(client, {**BODY, "phone": "+1 415 555 2671"})
    assert response.status_code == 201
    assert response.json()["subscription"]["channels"] == ["email", "sms"]
    assert "email and text you" in response.json()["message"]


def test_duplicate_is_200_and_creates_nothing(client: Client, sold_out_variant: Variant) -> None:
    assert subscribe(client, BODY).status_code == 201
    response = subscribe(client, {**BODY, "email": "ADA@example.com"})
    assert response.status_code == 200
    assert response.json()["status"] == "already_subscribed"
    assert "Linen Shirt — Large" in response.json()["message"]
    assert Subscription.objects.count() == 1
    assert OutboxItem.objects.count() == 1


def test_duplicate_by_phone_in_another_format(client: Client, sold_out_variant: Variant) -> None:
    assert subscribe(client, {"variant_id": 4001, "phone": "+14155552671"}).status_code == 201
    response = subscribe(client, {"variant_id": 4001, "phone": "(415) 555-2671",
                                  "email": "new@example.com"})
    assert response.status_code == 200
    assert Subscription.objects.count() == 1


def test_same_email_for_another_variant_is_a_new_subscription(
    client: Client, shop: Shop, sold_out_variant: Variant
) -> None:
    make_variant(shop, shopify_id=4002, title="Small")
    assert subscribe(client, BODY).status_code == 201
    assert subscribe(client, {**BODY, "variant_id": 4002}).status_code == 201
    assert Subscription.objects.count() == 2


def test_resubscribe_after_unsubscribing_creates_a_new_row(
    client: Client, sold_out_variant: Variant
) -> None:
    assert subscribe(client, BODY).status_code == 201
    assert subscription_unsubscribe(subscription=Subscription.objects.get())
    assert subscribe(client, BODY).status_code == 201
    assert Subscription.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.com"}, "variant_id"),
        ({"variant_id": "", "email": "a@example.com"}, "variant_id"),
        ({"variant_id": "abc", "email": "a@example.com"}, "variant_id"),
        ({"variant_id": -5, "email": "a@example.com"}, "variant_id"),
        ({"variant_id": 0, "email": "a@example.com"}, "variant_id"),
        ({"variant_id": 2**64, "email": "a@example.com"}, "variant_id"),
        ({"variant_id": 4001.5, "email": "a@example.com"}, "variant_id"),
        ({"variant_id": True, "email": "a@example.com"}, "variant_id"),
        ({"variant_id": {"id": 4001}, "email": "a@example.com"}, "variant_id"),
        ({"variant_id": [4001], "email": "a@example.com"}, "variant_id"),
        ({"variant_id": 4001}, "email"),
        ({"variant_id": 4001, "email": "", "phone": ""}, "phone"),
        ({"variant_id": 4001, "email": "not-an-email"}, "email"),
        ({"variant_id": 4001, "email": "a@b"}, "email"),
        ({"variant_id": 4001, "email": "a@localhost"}, "email"),
        ({"variant_id": 4001, "email": "a\x00@example.com"}, "email"),
        ({"variant_id": 4001, "email": "x" * 250 + "@example.com"}, "email"),
        ({"variant_id": 4001, "email": 42}, "email"),
        ({"variant_id": 4001, "email": ["a@example.com"]}, "email"),
        ({"variant_id": 4001, "phone": "12"}, "phone"),
        ({"variant_id": 4001, "phone": "not a phone"}, "phone"),
        ({"variant_id": 4001, "phone": "+1 555 0100"}, "phone"),
        ({"variant_id": 4001, "phone": "1" * 40}, "phone"),
        ({"variant_id": 4001, "phone": 4155552671}, "phone"),
        ({"variant_id": 4001, "phone": "0612345678", "country": "France"}, "country"),
        ({"variant_id": 4001, "phone": "0612345678", "country": "1!"}, "country"),
        ({**BODY, "marketing_consent": "maybe"}, "marketing_consent"),
        ({**BODY, "marketing_consent": 1}, "marketing_consent"),
        ({**BODY, "marketing_consent": True}, "consent_text_version"),
        ({**BODY, "marketing_consent": True, "consent_text_version": "v" * 65},
         "consent_text_version"),
        ({**BODY, "locale": "x" * 17}, "locale"),
        ({**BODY, "locale": "<script>"}, "locale"),
        ({**BODY, "first_name": "A" * 101}, "first_name"),
        ({**BODY, "first_name": {"a": 1}}, "first_name"),
        ({**BODY, "first_name": "Ada\x00"}, "first_name"),
        ({**BODY, "first_name": "Ada\nLovelace"}, "first_name"),
        ({**BODY, "consent_text_version": "v1\x00", "marketing_consent": True},
         "consent_text_version"),
        ({**BODY, "quantity": 0}, "quantity"),
        ({**BODY, "quantity": 100}, "quantity"),
        ({**BODY, "quantity": "two"}, "quantity"),
        ({**BODY, "quantity": 1.5}, "quantity"),
        ({**BODY, "website": "http://spam.example"}, "website"),
        ({**BODY, "website": 1}, "website"),
    ],
)
def test_each_invalid_field_is_400_naming_it(
    client: Client, sold_out_variant: Variant, body: dict[str, Any], field: str
) -> None:
    response = subscribe(client, body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_fields"
    assert error["message"]
    assert field in error["fields"] and all(error["fields"][field])
    assert not Subscription.objects.exists() and not OutboxItem.objects.exists()


def test_all_bad_fields_are_reported_together(client: Client, sold_out_variant: Variant) -> None:
    response = subscribe(client, {"variant_id": "x", "email": "nope", "quantity": 500})
    assert set(field_errors(response)) == {"variant_id", "email", "quantity"}


def test_honeypot_in_a_form_is_refused(client: Client, sold_out_variant: Variant) -> None:
    response = subscribe_urlencoded(client, "variant_id=4001&email=a%40example.com&website=x")
    assert response.status_code == 400
    assert "website" in field_errors(response)
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[1, 2]", b'"a string"', b"null", b"\xff\xfe", b"[" * 5000,
     b'{"variant_id": ' + b"9" * 5000 + b"}"],
    ids=["broken", "empty", "array", "string", "null", "not-utf8", "deep", "huge-int"],
)
def test_malformed_json_is_400_naming_body(
    client: Client, sold_out_variant: Variant, body: bytes
) -> None:
    response = subscribe(client, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_body"
    assert "body" in field_errors(response)


def test_non_utf8_form_is_400(client: Client, shop: Shop, sold_out_variant: Variant) -> None:
    url = f"{SUBSCRIBE}?{signed_proxy_query(shop.domain)}"
    response = client.generic("POST", url, b"variant_id=4001&email=\xff@example.com",
                              content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "body" in field_errors(response)


def test_broken_multipart_is_400(client: Client, shop: Shop, sold_out_variant: Variant) -> None:
    url = f"{SUBSCRIBE}?{signed_proxy_query(shop.domain)}"
    response = client.generic("POST", url, b"--x\r\ngarbage",
                              content_type="multipart/form-data; boundary=x")
    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_body_over_the_limit_is_413(client: Client, sold_out_variant: Variant,
                                    settings: Any) -> None:
    big = {**BODY, "first_name": "A" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    response = subscribe(client, big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_form_body_over_the_limit_is_413(client: Client, sold_out_variant: Variant,
                                         settings: Any) -> None:
    response = subscribe_urlencoded(
        client, "email=a%40example.com&x=" + "A" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )
    assert response.status_code == 413


def test_lying_content_length_over_the_limit_is_413(
    client: Client, shop: Shop, sold_out_variant: Variant, settings: Any
) -> None:
    url = f"{SUBSCRIBE}?{signed_proxy_query(shop.domain)}"
    response = client.generic("POST", url, b"{}", content_type="application/json",
                              CONTENT_LENGTH=str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10))
    assert response.status_code == 413


def test_garbage_content_length_is_400(client: Client, shop: Shop,
                                       sold_out_variant: Variant) -> None:
    url = f"{SUBSCRIBE}?{signed_proxy_query(shop.domain)}"
    response = client.generic("POST", url, b"{}", content_type="application/json",
                              CONTENT_LENGTH="lots")
    assert response.status_code == 400


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", ""])
def test_other_content_types_are_415(client: Client, shop: Shop, sold_out_variant: Variant,
                                     content_type: str) -> None:
    url = f"{SUBSCRIBE}?{signed_proxy_query(shop.domain)}"
    response = client.generic("POST", url, b'{"variant_id": 4001}', content_type=content_type)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_json_with_charset_is_accepted(client: Client, shop: Shop,
                                       sold_out_variant: Variant) -> None:
    url = f"{SUBSCRIBE}?{signed_proxy_query(shop.domain)}"
    response = client.generic("POST", url, b'{"variant_id": 4001, "email": "a@example.com"}',
                              content_type="application/json; charset=utf-8")
    assert response.status_code == 201


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_other_methods_are_405(client: Client, shop: Shop, method: str) -> None:
    response = getattr(client, method)(f"{SUBSCRIBE}?{signed_proxy_query(shop.domain)}")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_no_trailing_slash_redirect(client: Client, sold_out_variant: Variant) -> None:
    response = subscribe(client, BODY)
    assert response.status_code == 201
    assert client.post("/proxy/subscribe/").status_code == 404


def test_unknown_variant_is_404_naming_variant_id(
    client: Client, sold_out_variant: Variant
) -> None:
    response = subscribe(client, {**BODY, "variant_id": 999999})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_variant"
    assert "variant_id" in field_errors(response)


def test_another_shops_variant_is_404_and_untouched(
    client: Client, shop: Shop, other_shop: Shop
) -> None:
    """Tenant isolation: a variant id that exists only at another shop is unknown here."""
    theirs = make_variant(other_shop, shopify_id=5005, product_id=9005)
    response = subscribe(client, {**BODY, "variant_id": 5005})
    assert response.status_code == 404
    assert "Linen" not in response.content.decode()  # nothing about their product leaks
    assert not Subscription.objects.exists()
    theirs.refresh_from_db()
    assert not theirs.subscriptions.exists()


def test_same_shopify_id_at_two_shops_resolves_to_the_signed_shop(
    client: Client, shop: Shop, other_shop: Shop, sold_out_variant: Variant
) -> None:
    make_variant(other_shop, shopify_id=4001, product_id=9001)
    response = subscribe(client, BODY, shop_domain=other_shop.domain)
    assert response.status_code == 201
    subscription = Subscription.objects.get()
    assert subscription.shop == other_shop and subscription.variant.shop == other_shop
    assert not sold_out_variant.subscriptions.exists()


@pytest.mark.parametrize(
    ("variant_kwargs", "words"),
    [({"quantity": 3}, "in stock"),
     ({"quantity": 0, "tracked": False}, "does not track"),
     ({"quantity": 0, "policy": Variant.InventoryPolicy.CONTINUE}, "even while")],
    ids=["in-stock", "untracked", "continue-selling"],
)
def test_variant_that_can_be_bought_is_409(
    client: Client, shop: Shop, variant_kwargs: dict[str, Any], words: str
) -> None:
    make_variant(shop, shopify_id=4001, **variant_kwargs)
    response = subscribe(client, BODY)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "variant_available"
    assert "can be bought now" in error["message"] and words in error["message"]
    assert "variant_id" in error["fields"]
    assert not Subscription.objects.exists()


def test_default_title_variant_is_named_by_its_product(client: Client, shop: Shop) -> None:
    make_variant(shop, shopify_id=4001, title="Default Title")
    response = subscribe(client, BODY)
    assert response.json()["message"] == "We'll email you when Linen Shirt is back in stock."
