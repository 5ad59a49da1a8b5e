"""Shopify's signatures, checked with Shopify's published vectors (shopify-platform.md §2, §4)
and the cases an attacker tries: one byte changed, a wrong or previous secret, no header,
duplicated parameters, stale and future timestamps."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl

import pytest
from django.http import QueryDict

from integrations.shopify.signatures import (
    InvalidSignature,
    oauth_query_hmac,
    oauth_query_verify,
    webhook_signature,
    webhook_signature_valid,
)

HUSH = "hush"
WEBHOOK_BODY = (b'{"inventory_item_id":808950810,"location_id":905684977,"available":6,'
                b'"updated_at":"2018-05-07T15:51:26-04:00"}')
OAUTH_VECTORS = [
    ("code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com"
     "&state=0.6784241404160823&timestamp=1337178173",
     "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"),
    ("code=0907a61c0c8d55e99db179b68161bc00&shop=some-shop.myshopify.com&timestamp=1337178173",
     "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20"),
    ("code=a94a110d86d2452eb3e2af4cfb8a3828&shop=some-shop.myshopify.com&timestamp=1337178173",
     "2cb1a277650a659f1b11e92a4a64275b128e037f2c3390e3c8fd2d8721dac9e2"),
]
SECRET = "a-current-shopify-app-secret-of-32-bytes!"
OLD_SECRET = "the-previous-shopify-app-secret-32-bytes"


@pytest.fixture
def secrets(settings: Any) -> None:
    settings.SHOPIFY_API_SECRET = SECRET
    settings.SHOPIFY_API_SECRET_OLD = ""


# -- webhooks -----------------------------------------------------------------------------------

def test_webhook_signature_matches_shopifys_published_vector() -> None:
    assert webhook_signature(WEBHOOK_BODY, HUSH) == "UXrcL52UpzZjpGkjZmC1N4eeY+z3xrY9tkuW7z1ohmM="
    assert (webhook_signature(WEBHOOK_BODY + b" ", HUSH)
            == "6sAYfzXzPH/oy/g5AWuKc19EGOprkypjW08VC/CJ6a0=")


def test_the_published_vector_validates_with_hush_as_the_app_secret(settings: Any) -> None:
    settings.SHOPIFY_API_SECRET = HUSH
    assert webhook_signature_valid(WEBHOOK_BODY, "UXrcL52UpzZjpGkjZmC1N4eeY+z3xrY9tkuW7z1ohmM=")


def test_a_signed_body_is_valid_and_one_tampered_byte_is_not(secrets: None) -> None:
    header = webhook_signature(WEBHOOK_BODY, SECRET)
    assert webhook_signature_valid(WEBHOOK_BODY, header)
    tampered = WEBHOOK_BODY.replace(b'"available":6', b'"available":7')
    assert len(tampered) == len(WEBHOOK_BODY)
    assert not webhook_signature_valid(tampered, header)
    assert not webhook_signature_valid(WEBHOOK_BODY + b" ", header)


def test_a_wrong_secret_is_refused(secrets: None) -> None:
    assert not webhook_signature_valid(WEBHOOK_BODY, webhook_signature(WEBHOOK_BODY, "nope"))


def test_the_previous_secret_is_accepted_during_a_rotation(settings: Any) -> None:
    header = webhook_signature(WEBHOOK_BODY, OLD_SECRET)
    settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_OLD = SECRET, ""
    assert not webhook_signature_valid(WEBHOOK_BODY, header)
    settings.SHOPIFY_API_SECRET_OLD = OLD_SECRET
    assert webhook_signature_valid(WEBHOOK_BODY, header)
    assert webhook_signature_valid(WEBHOOK_BODY, webhook_signature(WEBHOOK_BODY, SECRET))


@pytest.mark.parametrize("header", [None, "", "   ", "not base64 at all", "é" * 44])
def test_missing_or_garbage_headers_are_refused(secrets: None, header: str | None) -> None:
    assert not webhook_signature_valid(WEBHOOK_BODY, header)


def test_no_configured_secret_refuses_everything(settings: Any) -> None:
    settings.SHOPIFY_API_SECRET = settings.SHOPIFY_API_SECRET_OLD = ""
    assert not webhook_signature_valid(WEBHOOK_BODY, webhook_signature(WEBHOOK_BODY, ""))


# -- OAuth / install queries ----------------------------------------------------------------------

@pytest.mark.parametrize(("query", "expected"), OAUTH_VECTORS)
def test_oauth_hmac_matches_shopifys_published_vectors(query: str, expected: str) -> None:
    assert oauth_query_hmac(parse_qsl(query), HUSH) == expected


@pytest.mark.parametrize(("query", "expected"), OAUTH_VECTORS)
def test_a_published_vector_verifies_as_a_querydict(settings: Any, query: str,
                                                    expected: str) -> None:
    settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_OLD = HUSH, ""
    oauth_query_verify(QueryDict(f"{query}&hmac={expected}"), now=1337178173 + 10)


def _signed(secret: str = SECRET, **params: str) -> dict[str, list[str]]:
    base = {"shop": "demo-shop.myshopify.com", "timestamp": str(int(time.time())),
            "code": "abc123", "state": "nonce-1", "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw"}
    base.update(params)
    return {**{k: [v] for k, v in base.items()}, "hmac": [oauth_query_hmac(base, secret)]}


def test_a_fresh_signed_query_verifies(secrets: None) -> None:
    oauth_query_verify(_signed())


def test_the_previous_secret_verifies_a_query_during_rotation(settings: Any) -> None:
    settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_OLD = SECRET, OLD_SECRET
    oauth_query_verify(_signed(OLD_SECRET))


def _reason(query: Any, **kwargs: Any) -> str:
    with pytest.raises(InvalidSignature) as caught:
        oauth_query_verify(query, **kwargs)
    return caught.value.reason


def test_a_tampered_value_a_wrong_secret_or_no_hmac_is_refused(secrets: None) -> None:
    tampered = _signed()
    tampered["shop"] = ["evil-shop.myshopify.com"]
    assert _reason(tampered) == "hmac does not match"
    assert _reason(_signed("wrong-secret")) == "hmac does not match"
    unsigned = _signed()
    del unsigned["hmac"]
    assert _reason(unsigned) == "hmac missing"


def test_a_duplicated_parameter_is_refused_even_when_signed(secrets: None) -> None:
    query = _signed()
    query["shop"] = ["demo-shop.myshopify.com", "evil.myshopify.com.attacker.io"]
    assert "more than once" in _reason(query)
    assert "more than once" in _reason(QueryDict("shop=a&shop=b&hmac=00&timestamp=1"))


def test_stale_future_and_missing_timestamps_are_refused(secrets: None) -> None:
    now = int(time.time())
    assert _reason(_signed(timestamp=str(now - 91))) == "timestamp too old"
    assert _reason(_signed(timestamp=str(now + 3600))) == "timestamp in the future"
    assert _reason(_signed(timestamp="soon")) == "timestamp is not a number"
    query = _signed()
    del query["timestamp"]
    query["hmac"] = [oauth_query_hmac({k: v[0] for k, v in query.items() if k != "hmac"},
                                      SECRET)]
    assert _reason(query) == "timestamp missing"


def test_a_longer_max_age_never_widens_the_future_bound(secrets: None) -> None:
    now = int(time.time())
    oauth_query_verify(_signed(timestamp=str(now - 3600)), max_age_seconds=86400)
    assert _reason(_signed(timestamp=str(now + 3600)),
                   max_age_seconds=86400) == "timestamp in the future"


def test_escaped_delimiters_cannot_move_a_value_between_parameters() -> None:
    assert (oauth_query_hmac([("a", "1&b=2")], SECRET)
            != oauth_query_hmac([("a", "1"), ("b", "2")], SECRET))
