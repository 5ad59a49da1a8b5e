"""The private key never leaks: scan the database, logs, Redis, pages, API answers, the admin,
Django's debug page and error reports after connecting, failing to connect and sync errors."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection as db
from django.test import Client
from django.views.debug import ExceptionReporter

from integrations.klaviyo.errors import KlaviyoError
from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt
from integrations.klaviyo.scopes import ALL_REQUIRED
from integrations.klaviyo.services import attempt_recorder, client_for, connection_halt
from notifyme.core.redis import get_redis
from notifyme.shops.models import Shop
from tests.factories import shop_make
from tests.fixtures.shopify import id_token

pytestmark = pytest.mark.django_db(transaction=True)


def database_text() -> Iterator[str]:
    """Every row of every table, as text (a logical dump of the test database)."""
    with db.cursor() as cursor:
        for table in db.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from introspection
            for row in cursor.fetchall():
                yield f"{table}: " + " | ".join(map(str, row))


def redis_text() -> Iterator[str]:
    """Every key and value in the app's Redis database (RQ job data decompressed)."""
    client = get_redis()
    for key in client.scan_iter("*"):
        kind = client.type(key).decode()
        values: list[bytes] = [key]
        if kind == "string":
            values.append(client.get(key) or b"")
        elif kind == "hash":
            for field, value in client.hgetall(key).items():
                values += [field, value]
        elif kind == "list":
            values += client.lrange(key, 0, -1)
        elif kind == "set":
            values += list(client.smembers(key))
        elif kind == "zset":
            values += [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
        for value in values:
            yield value.decode("latin-1")
            try:
                yield zlib.decompress(value).decode("latin-1")
            except zlib.error:
                pass


def fragments(key: str) -> list[str]:
    """The key and its secret middle (the last four may be shown; nothing else may)."""
    return [key, key[3:-4]]


def error_reports(records: list[logging.LogRecord]) -> list[str]:
    """The text and HTML error reports Django would mail for each request that crashed."""
    reports = []
    for record in records:
        if record.name == "django.request" and record.exc_info:
            reporter = ExceptionReporter(getattr(record, "request", None), *record.exc_info,
                                         is_email=True)
            reports += [reporter.get_traceback_text(), reporter.get_traceback_html()]
    return reports


def admin_pages(admin_client: Client, connection: KlaviyoConnection, shop: Shop) -> list[str]:
    """The support admin's pages that show a connection, its attempts and its shop."""
    attempt = SyncAttempt.objects.first()
    assert attempt is not None
    pages = []
    for url in ("/admin/klaviyo/klaviyoconnection/",
                f"/admin/klaviyo/klaviyoconnection/{connection.pk}/change/",
                "/admin/klaviyo/syncattempt/",
                f"/admin/klaviyo/syncattempt/{attempt.pk}/change/",
                f"/admin/shops/shop/{shop.pk}/change/"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        pages.append(response.content.decode())
    return pages


def test_the_key_never_leaks(
    klaviyo_sandbox: Any, caplog: pytest.LogCaptureFixture, settings: Any,
    monkeypatch: pytest.MonkeyPatch, admin_client: Client,
) -> None:
    caplog.set_level(logging.DEBUG)  # everything, urllib3 and django.request included
    for name in ("urllib3", "django", "integrations", "notifyme", "rq"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    klaviyo_sandbox.admin.set_rate_limits(enabled=False)
    shop = shop_make("demo-shop.myshopify.com", name="Demo Outfitters")
    account = klaviyo_sandbox.admin.create_account(name="Leak Test Klaviyo")
    admin = klaviyo_sandbox.admin
    good = admin.create_key(account["id"], "all")
    no_profiles_write = admin.create_key(
        account["id"], [s for s in ALL_REQUIRED if s != "profiles:write"])
    revoked = admin.create_key(account["id"], "all")
    admin.revoke_key(revoked)
    replacement = admin.create_key(account["id"], "all")
    secrets = [good, no_profiles_write, revoked, replacement]

    client = Client(raise_request_exception=False)
    bodies: list[str] = []

    def bearer() -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {id_token(shop.domain)}"}

    def post(path: str, body: dict[str, Any]) -> Any:
        response = client.post(f"/app/api/klaviyo{path}", body, content_type="application/json",
                               **bearer())
        bodies.append(response.content.decode())
        return response

    def page() -> None:
        response = client.get("/app/", {"id_token": id_token(shop.domain), "shop": shop.domain})
        assert response.status_code == 200
        bodies.append(response.content.decode())
        bodies.append(client.get("/app/api/klaviyo/panel", **bearer()).content.decode())
        bodies.append(client.get("/app/api/klaviyo", **bearer()).content.decode())

    # Failing to connect: missing scope, revoked, malformed with the key inside, bad list.
    assert post("/connect", {"private_key": no_profiles_write}).status_code == 422
    assert post("/connect", {"private_key": revoked}).status_code == 422
    assert post("/connect", {"private_key": f"{good} trailing junk"}).status_code == 422
    assert post("/connect", {"private_key": good, "list_id": "Nope!!"}).status_code == 422
    assert post("/connect", {"private_key": good, "list_id": 5}).status_code == 400
    page()
    # Connecting, listing, re-testing.
    assert post("/connect", {"private_key": good}).status_code == 200
    bodies.append(client.get("/app/api/klaviyo/lists", **bearer()).content.decode())
    assert post("/retest", {}).status_code == 200
    page()
    # Sync errors: the key loses a scope, the engine halts; then the key is revoked.
    connection = KlaviyoConnection.objects.get(shop=shop)
    admin.set_key_scopes(good, ["accounts:read"])
    sync_client = client_for(connection, observer=attempt_recorder(shop=shop))
    with pytest.raises(KlaviyoError) as raised:
        sync_client.upsert_profile({"email": "shopper@example.com"})
    connection_halt(connection=connection, error=raised.value)
    logging.getLogger("notifyme.sync").exception("sync failed: %s", raised.value)
    admin.revoke_key(good)
    assert post("/retest", {}).status_code == 422
    page()
    # Reconnect with a replacement key.
    assert post("/connect", {"private_key": replacement}).status_code == 200
    page()
    # An unexpected crash mid-connect with DEBUG on: the debug page and the error report.
    settings.DEBUG = True
    monkeypatch.setattr("integrations.klaviyo.services.key_verify",
                        lambda **kw: (_ for _ in ()).throw(RuntimeError("boom")))
    crashed = post("/connect", {"private_key": replacement})
    assert crashed.status_code == 500 and "boom" in crashed.content.decode()
    settings.DEBUG = False
    reports = error_reports(caplog.records)
    assert reports, "the crash should have produced an error report"
    bodies += admin_pages(admin_client, connection, shop)

    assert KlaviyoConnection.objects.get(shop=shop).key_display in bodies[-4]
    sinks = {
        "database": "\n".join(database_text()),
        "logs": caplog.text + "\n".join(
            f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records),
        "redis": "\n".join(redis_text()),
        "responses": "\n".join(bodies),
        "error reports": "\n".join(reports),
    }
    assert "rq:queue:sync" in sinks["redis"]  # the scan does see RQ's data (the nudge)
    assert "pk_…" in sinks["responses"] and "Leak Test Klaviyo" in sinks["responses"]
    for secret in secrets:
        for fragment in fragments(secret):
            for sink, text in sinks.items():
                assert fragment not in text, f"key material found in {sink}"


def test_client_and_errors_never_show_the_key(shop: Shop, klaviyo_sandbox: Any) -> None:
    account = klaviyo_sandbox.admin.create_account(name="Repr")
    key = klaviyo_sandbox.admin.create_key(account["id"], ["accounts:read"])
    connection = KlaviyoConnection(shop=shop)
    connection.set_private_key(key)
    client = client_for(connection)
    assert key not in repr(client)
    with pytest.raises(KlaviyoError) as raised:
        client.upsert_profile({"email": "a@example.com"})
    assert key not in str(raised.value) and key not in repr(raised.value)
