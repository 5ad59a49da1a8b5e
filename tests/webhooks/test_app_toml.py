"""shopify.app.toml says what the code does (`shopify app config` validation is not reachable
here): every subscribed topic is handled and every handled topic subscribed, the scopes are the
ones the code asks for, the app proxy and the webhook endpoint are the app's routes.

Until every helper's rows are merged, `test_declared_topics_are_handled` fails on a branch that
lacks them; the full set the app must handle is spelled out in EXPECTED_TOPICS.
"""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import resolve

from integrations.shopify.conf import API_VERSION
from notifyme.webhooks.topics import TOPICS

TOML = Path(__file__).resolve().parents[2] / "shopify.app.toml"

# What the app must handle, by the helper that adds the row to TOPICS (issue 11).
EXPECTED_TOPICS = {
    "app/uninstalled": "webhooks",
    "products/create": "catalog",
    "products/update": "catalog",
    "products/delete": "catalog",
    "inventory_levels/update": "catalog",
    "customers/data_request": "privacy",
    "customers/redact": "privacy",
    "shop/redact": "privacy",
    "orders/create": "revenue",
    "orders/cancelled": "revenue",
}
COMPLIANCE = {"customers/data_request", "customers/redact", "shop/redact"}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    with TOML.open("rb") as handle:
        return tomllib.load(handle)


def _declared(config: dict[str, Any]) -> tuple[set[str], set[str], list[str]]:
    topics: set[str] = set()
    compliance: set[str] = set()
    uris: list[str] = []
    for subscription in config["webhooks"]["subscriptions"]:
        topics.update(subscription.get("topics", []))
        compliance.update(subscription.get("compliance_topics", []))
        uris.append(subscription["uri"])
    return topics, compliance, uris


def test_declares_the_topics_the_app_must_handle(config: dict[str, Any]) -> None:
    topics, compliance, _ = _declared(config)
    assert compliance == COMPLIANCE
    assert topics | compliance == set(EXPECTED_TOPICS)


def test_declared_topics_are_handled(config: dict[str, Any]) -> None:
    topics, compliance, _ = _declared(config)
    declared = topics | compliance
    missing = {t: f"row from helper {EXPECTED_TOPICS.get(t, '?')!r}"
               for t in sorted(declared - set(TOPICS))}
    assert not missing, f"subscribed in shopify.app.toml but not in TOPICS: {missing}"
    assert not set(TOPICS) - declared, "handled in TOPICS but not subscribed in the toml"


def test_every_subscription_reaches_the_webhook_endpoint(config: dict[str, Any]) -> None:
    app_host = urlsplit(config["application_url"]).netloc
    assert config["webhooks"]["api_version"] == API_VERSION
    for uri in _declared(config)[2]:
        parts = urlsplit(uri)
        assert (parts.scheme, parts.netloc, parts.path) == ("https", app_host,
                                                           "/webhooks/shopify")
        assert resolve(parts.path).url_name == "shopify"


def test_app_urls(config: dict[str, Any]) -> None:
    assert config["embedded"] is True
    app = urlsplit(config["application_url"])
    assert app.scheme == "https" and resolve(app.path).url_name == "home"
    for redirect in config["auth"]["redirect_urls"]:
        parts = urlsplit(redirect)
        assert (parts.scheme, parts.netloc, parts.path) == ("https", app.netloc,
                                                           "/auth/callback")


def test_app_proxy_matches_the_settings_and_the_proxy_routes(config: dict[str, Any]) -> None:
    proxy = config["app_proxy"]
    assert f"/{proxy['prefix']}/{proxy['subpath']}" == settings.SHOPIFY_APP_PROXY_PATH
    url = urlsplit(proxy["url"])
    assert url.scheme == "https" and url.netloc == urlsplit(config["application_url"]).netloc
    assert resolve(f"{url.path}/subscribe").url_name == "subscribe"


def test_scopes_are_the_codes(config: dict[str, Any]) -> None:
    """`REQUIRED_SCOPES` comes with helper "client" (integrations/shopify/scopes.py)."""
    scopes = importlib.import_module("integrations.shopify.scopes")
    declared = {s.strip() for s in config["access_scopes"]["scopes"].split(",")}
    assert declared == set(scopes.REQUIRED_SCOPES)
    assert {"read_products", "read_inventory", "read_locations"} <= declared
