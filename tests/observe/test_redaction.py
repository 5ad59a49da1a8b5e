"""No credential (and no shopper's full email or phone) leaves through a log handler: message,
arguments, `extra=` fields, exception text and traceback, in both log formats."""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections import namedtuple

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from notifyme.core.logformat import TextFormatter
from notifyme.core.logging import redact, redact_log
from tests.fixtures.shopify import id_token
from tests.observe.conftest import Captured

KLAVIYO_KEY = "pk_" + secrets.token_hex(17)
SHOPIFY = {prefix: f"{prefix}_{secrets.token_hex(16)}"
           for prefix in ("shpat", "shpua", "shprt", "shpca", "shppa", "shpss")}
FERNET = Fernet(Fernet.generate_key()).encrypt(KLAVIYO_KEY.encode()).decode()
ID_TOKEN = id_token("demo-shop.myshopify.com")
HMAC = base64.b64encode(secrets.token_bytes(32)).decode()
BASIC = base64.b64encode(b"client-id:client-secret-value").decode()
SIGNATURE = secrets.token_hex(32)
SHOPPER_EMAIL = "jane.doe@gmail.com"
SHOPPER_PHONE = "+14155550123"

SECRETS = [KLAVIYO_KEY, *SHOPIFY.values(), FERNET, ID_TOKEN, HMAC, BASIC, SIGNATURE]

#: Each way a secret turns up in a log line of this app (or of a library under it).
MESSAGES = [
    ("connect with key %s failed", (KLAVIYO_KEY,)),
    ("Authorization: Klaviyo-API-Key %s", (KLAVIYO_KEY,)),
    *[("token exchange answered %s", (token,)) for token in SHOPIFY.values()],
    ("headers {'X-Shopify-Access-Token': '%s', 'Accept': 'json'}", (SHOPIFY["shpat"],)),
    ('body {"access_token":"%s","scope":"read_products"}', (SHOPIFY["shpat"],)),
    ("stored row private_key_encrypted=%s", (FERNET,)),
    ("Authorization: Bearer %s", (ID_TOKEN,)),
    ("GET /app/?embedded=1&id_token=%s&shop=demo-shop.myshopify.com", (ID_TOKEN,)),
    ("Authorization: Basic %s", (BASIC,)),
    ("session token %s expired", (ID_TOKEN,)),
    ("webhook X-Shopify-Hmac-Sha256: %s rejected", (HMAC,)),
    ("GET /auth/callback?code=1&hmac=%s&shop=x.myshopify.com", (SIGNATURE,)),
    ("GET /proxy/subscribe?shop=x.myshopify.com&signature=%s&timestamp=1", (SIGNATURE,)),
    ("client_secret=%s password=%s", (SIGNATURE, SIGNATURE)),
]


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert SHOPPER_EMAIL not in text and SHOPPER_PHONE not in text


@pytest.mark.parametrize(("msg", "args"), MESSAGES)
def test_each_secret_form_is_masked_in_a_json_line(json_log: Captured, msg: str,
                                                   args: tuple[str, ...]) -> None:
    logging.getLogger("notifyme.probe").warning(msg, *args)
    (line,) = json_log.records()
    _assert_clean(line["message"])
    assert "[redacted]" in line["message"] or "pk_…" in line["message"]


def test_the_klaviyo_key_keeps_the_apps_display_form(json_log: Captured) -> None:
    logging.getLogger("notifyme.probe").info("key %s", KLAVIYO_KEY)
    (line,) = json_log.records()
    assert line["message"] == f"key pk_…{KLAVIYO_KEY[-4:]}"


def test_shopper_contacts_are_masked_in_logs_but_kept_for_attempt_rows(
        json_log: Captured) -> None:
    logging.getLogger("notifyme.probe").info("subscribed %s / %s", SHOPPER_EMAIL, SHOPPER_PHONE)
    (line,) = json_log.records()
    assert line["message"] == "subscribed j…@gmail.com / +…0123"
    # `redact` (what SyncAttempt.error_detail passes through) masks credentials only: support
    # reads Klaviyo's "Invalid email jane.doe@gmail.com" there.
    assert redact(f"Invalid email {SHOPPER_EMAIL}") == f"Invalid email {SHOPPER_EMAIL}"


def test_extra_fields_are_redacted_too(json_log: Captured) -> None:
    logging.getLogger("notifyme.probe").warning(
        "call failed", extra={"headers": {"Authorization": f"Klaviyo-API-Key {KLAVIYO_KEY}",
                                          "X-Shopify-Access-Token": SHOPIFY["shpat"],
                                          "Cookie": "sessionid=abc123def456"},
                              "payload": {"password": "hunter2-plain", "count": 2},
                              "sent": [f"Bearer {ID_TOKEN}"], "contact": SHOPPER_EMAIL,
                              "attempt": 3})
    (line,) = json_log.records()
    _assert_clean(str(line))
    assert line["attempt"] == 3 and line["contact"] == "j…@gmail.com"
    assert line["headers"] == {"Authorization": "[redacted]", "Cookie": "[redacted]",
                               "X-Shopify-Access-Token": "[redacted]"}
    assert line["payload"] == {"password": "[redacted]", "count": 2}


class KeyRejected(Exception):
    pass


def _fail_with_secrets() -> None:
    try:
        raise ValueError(f"upstream said token {SHOPIFY['shpua']}")
    except ValueError as cause:
        raise KeyRejected(f"Klaviyo refused {KLAVIYO_KEY} for {SHOPPER_EMAIL}") from cause


def test_an_exception_message_with_a_key_is_redacted_in_the_traceback(
        json_log: Captured) -> None:
    try:
        _fail_with_secrets()
    except KeyRejected:
        logging.getLogger("notifyme.probe").exception("sync failed")
    (line,) = json_log.records()
    trace = line["exception"]
    assert "Traceback (most recent call last)" in trace and "KeyRejected" in trace
    assert "The above exception was the direct cause" in trace  # the chained cause too
    assert f"pk_…{KLAVIYO_KEY[-4:]}" in trace and "shpua_[redacted]" in trace
    _assert_clean(trace)


def test_the_text_format_prints_the_same_redacted_record() -> None:
    (handler,) = [h for h in logging.getLogger().handlers if isinstance(h.formatter,
                                                                         TextFormatter)]
    stream = Captured()
    old = handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        try:
            _fail_with_secrets()
        except KeyRejected:
            logging.getLogger("notifyme.probe").exception("key %s", KLAVIYO_KEY)
        for msg, args in MESSAGES:
            logging.getLogger("notifyme.probe").warning(msg, *args)
    finally:
        handler.setStream(old)  # type: ignore[attr-defined]
    text = stream.getvalue()
    assert "KeyRejected" in text and text.count("\n") > len(MESSAGES)
    _assert_clean(text)


def test_the_development_server_log_is_redacted_in_both_formats() -> None:
    (handler,) = logging.getLogger("django.server").handlers
    stream = Captured()
    old = handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        logging.getLogger("django.server").info(
            '"%s" %s %s', f"GET /app/?id_token={ID_TOKEN}&hmac={SIGNATURE} HTTP/1.1", "200", "9",
            extra={"status_code": 200, "request": None})
    finally:
        handler.setStream(old)  # type: ignore[attr-defined]
    _assert_clean(stream.getvalue())
    assert '" 200 9' in stream.getvalue()


@pytest.mark.parametrize("text", [
    "error_code=rate_limited status=429 retry_after=3",
    "shop demo-shop.myshopify.com list XyZ123 took 12 ms",
    "job sync-sync-42-0123456789ab started at 2026-12-03T16:40:01Z",
])
def test_ordinary_diagnostics_survive_redaction(text: str) -> None:
    assert redact_log(text) == text


@pytest.mark.django_db
def test_a_404_logged_with_its_request_object_leaks_no_url_secret(json_log: Captured) -> None:
    """Django logs "Not Found" with the request object as an extra field; its repr is the full
    URL, query included."""
    client = Client()
    response = client.get(f"/no-such-page/?id_token={ID_TOKEN}&email=jane.doe%40gmail.com"
                          f"&hmac={SIGNATURE}")
    assert response.status_code == 404
    (line,) = [r for r in json_log.records() if r["logger"] == "django.request"]
    assert line["status_code"] == 404 and "WSGIRequest" in line["request"]
    _assert_clean(json.dumps(line))
    assert "jane.doe%40gmail.com" not in json.dumps(line) and "j…%40gmail.com" in line["request"]


def test_odd_extra_values_neither_break_logging_nor_leak(json_log: Captured) -> None:
    Pair = namedtuple("Pair", "name secret")
    logging.getLogger("notifyme.probe").warning("odd", extra={
        "pair": Pair("key", KLAVIYO_KEY), "raw": KLAVIYO_KEY.encode(), "ids": {1, 2}})
    (line,) = json_log.records()
    assert line["pair"] == ["key", f"pk_…{KLAVIYO_KEY[-4:]}"] and sorted(line["ids"]) == [1, 2]
    _assert_clean(json.dumps(line))


def test_a_log_call_with_mismatched_arguments_is_printed_redacted_not_raised(
        json_log: Captured) -> None:
    logging.getLogger("notifyme.probe").warning("key %s and %s", KLAVIYO_KEY)
    (line,) = json_log.records()
    assert line["message"].startswith("key %s and %s (") and "pk_…" in line["message"]
    _assert_clean(line["message"])
