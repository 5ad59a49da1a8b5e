"""`GET /openapi.json` describes the app as it is: a valid OpenAPI 3.1 document, every URL
pattern outside the admin and the dev tools described and nothing described that is not routed,
and each path's methods exactly those its view answers — a request with any other method,
properly authenticated, gets 405, and one with a described method does not.

The URL conf is walked, so an endpoint added tomorrow fails here until it is described."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from openapi_spec_validator import validate

from notifyme.shops.models import Shop
from tests.fixtures.shopify import id_token, signed_proxy_query
from tests.security.conftest import url_routes

#: Not part of the app's interface: Django's admin (with django-rq's pages under it) and the
#: development stand-ins, which production never mounts.
UNDESCRIBED = ("admin/", "dev/")
METHODS = ("get", "post", "put", "patch", "delete")
PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
#: What each path parameter is filled with for the method walk.
PATH_VALUES = {"import_id": "1", "subscription_id": "1", "source": "klaviyo", "kind": "auth"}


def _openapi_path(route: str) -> str:
    return "/" + PARAM.sub(r"{\1}", route)


@pytest.fixture
def document(client: Client) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return dict(response.json())


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_route_is_described_and_every_described_path_is_routed(
        document: dict[str, Any]) -> None:
    routed = {_openapi_path(route) for route, _ in url_routes()
              if not route.startswith(UNDESCRIBED)}
    assert len(routed) >= 50  # the walk sees the whole app, not an empty resolver
    assert sorted(routed - set(document["paths"])) == [], "describe these in core/openapi.py"
    assert sorted(set(document["paths"]) - routed) == [], "described but not routed"


def _call(client: Client, method: str, path: str, security: str | None,
          shop: Shop) -> int:
    url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m[1], shop.domain), path)
    extra: dict[str, Any] = {}
    if security == "idToken":
        extra["HTTP_AUTHORIZATION"] = f"Bearer {id_token(shop.domain)}"
    elif security == "idTokenQuery":
        url += f"?id_token={id_token(shop.domain)}&shop={shop.domain}"
    elif security == "appProxy":
        url += "?" + signed_proxy_query(shop.domain)
    if method == "get":
        response = client.get(url, **extra)
    else:
        response = getattr(client, method)(url, data="{}", content_type="application/json",
                                           **extra)
    return int(response.status_code)


def test_each_path_answers_exactly_its_described_methods(
        document: dict[str, Any], shop: Shop) -> None:
    staff = User.objects.create_user("openapi", "openapi@example.com", "x", is_staff=True)
    client = Client(enforce_csrf_checks=False)
    client.force_login(staff)  # the support pages and the metrics
    wrong = []
    for path, operations in document["paths"].items():
        security = next((next(iter(r)) for op in operations.values()
                         for r in op.get("security", [])), None)
        for method in METHODS:
            status = _call(client, method, path, security, shop)
            if (status == 405) == (method in operations):
                wrong.append(f"{method.upper()} {path}: {status}")
    assert wrong == [], "\n".join(wrong)
