"""POST /proxy/subscribe answers 4xx naming the field for any text the database cannot store
(lone surrogates, NUL), for emails that only grow too long once normalised, and for bodies the
reader cannot take; nothing is written or sent before the input is known to be valid."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.subscriptions.models import Subscription
from notifyme.sync.models import OutboxItem
from tests.fixtures.shopify import signed_proxy_query
from tests.subscriptions.helpers import (
    SHOP,
    SUBSCRIBE,
    field_errors,
    subscribe,
    subscribe_urlencoded,
)

pytestmark = pytest.mark.django_db
BODY: dict[str, Any] = {"variant_id": 4001, "email": "ada@example.com"}
CONSENT: dict[str, Any] = {"marketing_consent": True, "consent_text_version": "v1"}
TEXT_FIELDS = ["email", "phone", "first_name", "consent_text_version", "locale", "country",
               "sms_consent_text_version", "quantity", "variant_id", "marketing_consent",
               "sms_consent", "website"]


def _nothing_stored() -> None:
    assert Subscription.objects.count() == 0
    assert OutboxItem.objects.count() == 0


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize("bad", ["\ud800", "a\udfffb", "\x00", "a\x00b"])
def test_unstorable_text_in_any_field_is_400_naming_it(
    client: Client, sold_out_variant: Variant, field: str, bad: str
) -> None:
    body = {**BODY, **CONSENT, "phone": "+14155552671", "sms_consent": True,
            "sms_consent_text_version": "s1", field: bad}
    response = subscribe(client, body)
    assert response.status_code == 400, response.content
    assert field in field_errors(response)
    _nothing_stored()


@pytest.mark.parametrize("email", [
    "İ" * 240 + "@example.com",           # dotted capital I grows when lower-cased
    "İ" * 60 + "@example.com",            # a local part Klaviyo cannot take (not ASCII)
    "ada@" + "İ" * 60 + ".com",
    "ada@" + ".".join(["İ" * 20] * 10) + ".com",  # fits as typed, not as punycode
    "a" * 64 + "@" + ".".join(["\u0131" * 40] * 5) + ".com",  # dotless i
    "ada@exa\ud800mple.com",
    "ada\x00@example.com",
], ids=["dotted-grows", "dotted-local", "dotted-domain", "punycode-too-long",
        "dotless-too-long", "surrogate", "nul"])
def test_email_that_cannot_be_stored_once_normalised_is_400(
    client: Client, sold_out_variant: Variant, email: str
) -> None:
    response = subscribe(client, {**BODY, "email": email})
    assert response.status_code == 400, response.content
    assert "email" in field_errors(response)
    _nothing_stored()


def test_surrogate_in_a_form_body_is_400_not_500(client: Client,
                                                 sold_out_variant: Variant) -> None:
    # Percent-encoded invalid UTF-8 (an encoded surrogate) in a urlencoded form.
    response = subscribe_urlencoded(client, "variant_id=4001&email=ada%40example.com"
                                            "&first_name=%ED%A0%80")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        assert Subscription.objects.get().first_name == "\ufffd\ufffd\ufffd"


@pytest.mark.parametrize("body", [
    b"\xff\xfe{}", b'{"email": "\xff@example.com", "variant_id": 4001}',
    b"[" * 8_000 + b"]" * 8_000, b'{"first_name": ' + b"[" * 8_000 + b"]" * 8_000 + b"}",
    b"[]", b'"text"', b"4001", b"null", b"true",
    b'{"variant_id": ' + b"9" * 5000 + b"}",
], ids=["bom", "latin1", "deep-array", "deep-field", "array", "string", "number", "null",
        "true", "huge-int"])
def test_json_bodies_the_reader_cannot_take_are_400_naming_body(
    client: Client, sold_out_variant: Variant, body: bytes
) -> None:
    response = subscribe(client, body)
    assert response.status_code == 400, response.content
    assert "body" in field_errors(response)
    _nothing_stored()


def test_nested_values_are_400_naming_the_field(client: Client,
                                                sold_out_variant: Variant) -> None:
    response = subscribe(client, {**BODY, "first_name": [[[["Ada"]]]], "email": {"a": ["b"]}})
    assert response.status_code == 400
    assert {"first_name", "email"} <= field_errors(response).keys()
    _nothing_stored()


def test_non_utf8_multipart_field_is_not_a_500(client: Client,
                                               sold_out_variant: Variant) -> None:
    boundary = "BoUnDaRy"
    parts = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"variant_id\"\r\n\r\n4001\r\n"
             f"--{boundary}\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n"
             ).encode() + b"ada\xff@example.com\r\n" + f"--{boundary}--\r\n".encode()
    response = client.generic(
        "POST", f"{SUBSCRIBE}?{signed_proxy_query(SHOP)}", parts,
        content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400, response.content
    assert "email" in field_errors(response)
    _nothing_stored()
