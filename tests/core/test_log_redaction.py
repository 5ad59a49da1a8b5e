"""Credentials in URLs (cancel tokens, proxy signatures, ID tokens) never reach a log line:
the development server's request log, the app's own loggers and gunicorn's access log."""

from __future__ import annotations

import datetime
import io
import logging
import runpy
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.core.servers.basehttp import WSGIRequestHandler
from gunicorn.config import Config

from notifyme.core.logging import RedactSecretsFilter
from notifyme.shops.signing import app_proxy_signature
from notifyme.subscriptions.links import storefront_unsubscribe_url, unsubscribe_url
from notifyme.subscriptions.services import subscription_create
from tests.fixtures.shopify import id_token, make_shop, make_variant

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "Tok3n_secret-VALUE-abcdefghijklmnopq"
SIGNATURE = app_proxy_signature({"shop": ["demo-shop.myshopify.com"]}, "s" * 40)
ID_TOKEN = id_token("demo-shop.myshopify.com")
KX = "Q2lhbyBLbGF2aXlvIHByb2ZpbGU.XyZ123"  # Klaviyo's click-tracking profile id
SECRETS = (TOKEN, SIGNATURE, ID_TOKEN, KX)

URLS = [
    f"/proxy/unsubscribe?token={TOKEN}",
    f"/proxy/unsubscribe?shop=demo-shop.myshopify.com&token={TOKEN}&signature={SIGNATURE}",
    f"/proxy/unsubscribe?_kx={KX}&token={TOKEN}&utm_source=klaviyo",
    f"/proxy/subscribe?logged_in_customer_id=&signature={SIGNATURE}&timestamp=1",
    f"/app/?embedded=1&id_token={ID_TOKEN}&shop=demo-shop.myshopify.com",
    f"/app/bounce?shopify-reload={quote('/app/?id_token=' + ID_TOKEN + '&x=1', safe='')}",
    f"/app/bounce?shopify-reload={quote('/proxy/unsubscribe?token=' + TOKEN, safe='')}",
]


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert "[redacted]" in text


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """What the configured `django.server` handler writes."""
    (handler,) = logging.getLogger("django.server").handlers
    stream = io.StringIO()
    old = handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    handler.setStream(old)  # type: ignore[attr-defined]


def _runserver_logs(url: str, code: int) -> None:
    """runserver's request handler logging one request line, as it does after each request."""
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)
    handler.request = None
    handler.requestline = f"GET {url} HTTP/1.1"
    handler.log_request(code, 123)


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("code", [200, 302, 404, 500])
def test_the_development_server_log_shows_no_url_secret(server_log: io.StringIO, url: str,
                                                        code: int) -> None:
    _runserver_logs(url, code)
    line = server_log.getvalue()
    assert '"GET /' in line and f" {code} 123" in line
    _assert_clean(line)


def test_app_log_records_with_urls_are_redacted() -> None:
    (handler,) = [h for h in logging.getLogger().handlers
                  if any(isinstance(f, RedactSecretsFilter) for f in h.filters)]
    stream = io.StringIO()
    old = handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        for url in URLS:
            logging.getLogger("django.request").warning("Not Found: %s", url)
            logging.getLogger("notifyme.test").info("visiting https://shop.example%s", url)
    finally:
        handler.setStream(old)  # type: ignore[attr-defined]
    _assert_clean(stream.getvalue())


@pytest.mark.django_db
def test_every_unsubscribe_link_the_app_builds_is_redacted(server_log: io.StringIO) -> None:
    variant = make_variant(make_shop())
    subscription, _ = subscription_create(shop=variant.shop, variant=variant,
                                          email="ada@example.com")
    links = [unsubscribe_url(subscription=subscription, base_url="https://app.example"),
             storefront_unsubscribe_url(subscription=subscription)]
    for link in links:
        path = link.split("://", 1)[1].partition("/")[2]
        _runserver_logs("/" + path, 200)
    text = server_log.getvalue()
    assert subscription.unsubscribe_token not in text
    assert text.count("token=[redacted]") == len(links)


def _gunicorn_config() -> Config:
    """A gunicorn Config loaded from the repository's gunicorn.conf.py, as gunicorn loads it."""
    cfg = Config()
    namespace = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    for name, value in namespace.items():
        if name in cfg.settings:
            cfg.set(name, value)
    return cfg


def _gunicorn_request(url: str) -> tuple[object, object, dict[str, str]]:
    path, _, query = url.partition("?")
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": url, "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.7",
        "HTTP_REFERER": f"https://admin.shopify.com{url}", "HTTP_USER_AGENT": "test",
    }
    req = SimpleNamespace(headers=[("AUTHORIZATION", f"Bearer {ID_TOKEN}"),
                                   ("REFERER", environ["HTTP_REFERER"])])
    resp = SimpleNamespace(status="200 OK", sent=42, headers=[("Location", url)])
    return resp, req, environ


def test_gunicorn_conf_uses_the_redacting_logger() -> None:
    cfg = _gunicorn_config()
    assert cfg.logger_class.__name__ == "RedactingGunicornLogger"
    assert cfg.accesslog == "-"


@pytest.mark.parametrize("url", URLS)
def test_gunicorn_atoms_hold_no_url_secret(url: str) -> None:
    logger = _gunicorn_config().logger_class(_gunicorn_config())
    resp, req, environ = _gunicorn_request(url)
    # What a format can read: every atom through the logger's wrapper (redacted on reading).
    atoms = logger.atoms_wrapper_class(
        logger.atoms(resp, req, environ, datetime.timedelta(seconds=0, microseconds=5)))
    _assert_clean(repr({name: atoms[name] for name in atoms}))
    assert atoms["s"] == "200" and atoms["U"] == url.partition("?")[0]


@pytest.mark.parametrize("url", URLS)
def test_gunicorn_access_line_holds_no_url_secret(tmp_path: Path, url: str) -> None:
    cfg = _gunicorn_config()
    log_file = tmp_path / "access.log"
    cfg.set("accesslog", str(log_file))
    # Everything a format could print: request line, query, referer, headers, environ.
    cfg.set("access_log_format", '%(h)s "%(r)s" %(s)s %(q)s "%(f)s" %({authorization}i)s '
                                 '%({location}o)s %({raw_uri}e)s %({query_string}e)s')
    logger = cfg.logger_class(cfg)
    resp, req, environ = _gunicorn_request(url)
    logger.access(resp, req, environ, datetime.timedelta(seconds=1))
    for handler in logger.access_log.handlers:
        handler.flush()
    line = log_file.read_text()
    assert '"GET /' in line and " 200 " in line
    _assert_clean(line)
