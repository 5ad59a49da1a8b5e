"""Sentry: off without SENTRY_DSN; with it, what reaches Sentry's ingest holds no secret.

`before_send` is tested on a realistic event (what the Django and logging integrations build);
then a real process with `SENTRY_DSN` pointing at an HTTP server on loopback (this test's
stand-in for Sentry's ingest) reports an exception, and the posted envelopes are read back.
"""

from __future__ import annotations

import gzip
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from notifyme.core import logcontext
from notifyme.core.sentry import before_breadcrumb, before_send
from tests.observe.test_redaction import (
    FERNET,
    ID_TOKEN,
    KLAVIYO_KEY,
    SECRETS,
    SHOPIFY,
    SHOPPER_EMAIL,
    SIGNATURE,
)

ROOT = Path(__file__).resolve().parents[2]


def _clean(text: str) -> None:
    for secret in [*SECRETS, SHOPPER_EMAIL, "sessionid-value-123"]:
        assert secret not in text, secret


def test_before_send_redacts_a_django_error_event() -> None:
    event = {
        "level": "error",
        "logger": "django.request",
        "logentry": {"message": "Internal Server Error: %s",
                     "params": [f"/app/?id_token={ID_TOKEN}"]},
        "exception": {"values": [{
            "type": "KeyRejected", "value": f"Klaviyo refused {KLAVIYO_KEY}",
            "stacktrace": {"frames": [{
                "function": "connect", "filename": "notifyme/dashboard/api.py",
                "vars": {"private_key": f"'{KLAVIYO_KEY}'", "token": "'plain-looking-value'",
                         "encrypted": f"'{FERNET}'", "email": f"'{SHOPPER_EMAIL}'",
                         "attempt": "3"},
            }]},
        }]},
        "request": {
            "url": "https://notifyme.example.com/app/api/klaviyo/connect",
            "method": "POST",
            "query_string": f"shop=demo-shop.myshopify.com&id_token={ID_TOKEN}",
            "headers": {"Authorization": f"Bearer {ID_TOKEN}", "X-Request-ID": "abc12345",
                        "X-Shopify-Access-Token": SHOPIFY["shpat"],
                        "Cookie": "sessionid=sessionid-value-123"},
            "cookies": {"sessionid": "sessionid-value-123"},
            "data": {"private_key": KLAVIYO_KEY, "list_id": "XyZ123"},
        },
        "extra": {"sent": f'{{"access_token": "{SHOPIFY["shpua"]}"}}'},
        "breadcrumbs": {"values": [{"category": "httplib", "message":
                                    f"POST https://x.myshopify.com/admin?hmac={SIGNATURE}",
                                    "data": {"url": f"?signature={SIGNATURE}"}}]},
        "tags": {"shop": "demo-shop.myshopify.com"},
    }
    with logcontext.scope(request_id="req-0123456789"):
        logcontext.bind_shop("demo-shop.myshopify.com")
        cleaned = before_send(event, {})
    _clean(repr(cleaned))
    frame = cleaned["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert frame["vars"]["token"] == "[redacted]" and frame["vars"]["attempt"] == "3"
    assert cleaned["exception"]["values"][0]["value"] == f"Klaviyo refused pk_…{KLAVIYO_KEY[-4:]}"
    assert cleaned["request"]["cookies"] == "[redacted]"
    assert cleaned["request"]["headers"]["X-Request-ID"] == "abc12345"  # diagnostics stay
    assert cleaned["request"]["data"]["list_id"] == "XyZ123"
    # Tagged with the log context, so the event leads to the request's log lines.
    assert cleaned["tags"] == {"shop": "demo-shop.myshopify.com", "request_id": "req-0123456789"}


def test_before_breadcrumb_redacts_the_message_and_data() -> None:
    crumb = {"category": "notifyme.sync", "level": "info",
             "message": f"retrying with {KLAVIYO_KEY} for {SHOPPER_EMAIL}",
             "data": {"Authorization": f"Klaviyo-API-Key {KLAVIYO_KEY}"}}
    cleaned = before_breadcrumb(crumb, {})
    _clean(repr(cleaned))
    assert cleaned["message"].startswith("retrying with pk_…")


class _Ingest(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def ingest() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback HTTP server standing in for Sentry's ingest: (dsn, bodies posted)."""
    received: list[bytes] = []
    handler = type("Ingest", (_Ingest,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://publickey@127.0.0.1:{server.server_address[1]}/42", received
    finally:
        server.shutdown()
        server.server_close()


REPORT = f"""
import logging, django, sentry_sdk
django.setup()
print("active", sentry_sdk.get_client().is_active())
logging.getLogger("notifyme.sync").info("syncing for %s", {SHOPPER_EMAIL!r})
def connect(private_key, token):
    raise RuntimeError("Klaviyo refused " + private_key + " token " + token)
from notifyme.core import logcontext
with logcontext.scope(job_id="sync-sync-7-abcdef123456"):
    try:
        connect({KLAVIYO_KEY!r}, {SHOPIFY["shpat"]!r})
    except RuntimeError:
        logging.getLogger("notifyme.sync").exception("connect failed for %s", {ID_TOKEN!r})
sentry_sdk.capture_message("plain report with {FERNET}")
sentry_sdk.flush(timeout=10)
"""


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**clean, "DJANGO_SETTINGS_MODULE": "notifyme.settings", "DEBUG": "1", **env},
        check=False)


def test_with_a_dsn_errors_reach_sentry_redacted(ingest: tuple[str, list[bytes]]) -> None:
    dsn, received = ingest
    result = _run(REPORT, SENTRY_DSN=dsn)
    assert result.returncode == 0, result.stderr
    assert "active True" in result.stdout
    posted = b"\n".join(received).decode()
    # Both reports arrived: the logged exception (with its frame's locals) and the message.
    assert "connect failed for" in posted and "RuntimeError" in posted
    assert '"private_key"' in posted and "plain report with [redacted]" in posted
    assert '"job_id":"sync-sync-7-abcdef123456"' in posted  # the job's id as a tag
    _clean(posted)


def test_without_a_dsn_nothing_starts_and_nothing_is_sent(
        ingest: tuple[str, list[bytes]]) -> None:
    _, received = ingest
    result = _run(REPORT)
    assert result.returncode == 0, result.stderr
    assert "active False" in result.stdout
    assert received == []


def test_a_dsn_without_the_package_refuses_to_start(ingest: tuple[str, list[bytes]]) -> None:
    dsn, _ = ingest
    result = _run("import sys; sys.modules['sentry_sdk'] = None\n"
                  "import django; django.setup()", SENTRY_DSN=dsn)
    assert result.returncode != 0
    assert "SENTRY_DSN is set but sentry-sdk is not installed" in result.stderr
