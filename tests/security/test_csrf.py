"""CSRF on every staff form: every route under /support/ and /admin/ (Django's admin, each
model's add/change/delete/changelist-action views, django-rq's dashboard), found by walking the
URL resolver, refuses a signed-in staff member's POST that carries no CSRF token (403, Django's
CSRF failure), and nothing is written. A route that is exempt must be listed in `EXEMPT` with
the reason; none is today.

The middleware checks before the view runs, so every path parameter takes a placeholder: the
refusal cannot depend on the row existing.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.test import Client

from integrations.klaviyo.models import KlaviyoConnection
from notifyme.support.models import SupportAction
from tests.factories import klaviyo_connect, shop_make
from tests.fixtures.sandbox import SandboxHandle
from tests.security.conftest import url_routes

STAFF_PREFIXES = ("support/", "admin/")
EXEMPT: dict[str, str] = {}
_PLACEHOLDER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)\??")
DOMAIN = "csrf-shop.myshopify.com"


def _path(route: str) -> str:
    """A concrete path for a route (path converters or regex groups filled with "1")."""
    filled = _PLACEHOLDER.sub("1", route)
    filled = filled.replace("^", "").replace("$", "").replace("/?", "/").replace("\\", "")
    return "/" + re.sub(r"/+", "/", filled)


def staff_routes() -> list[str]:
    return sorted({route for route, _ in url_routes() if route.startswith(STAFF_PREFIXES)})


@pytest.fixture
def staff_csrf(db: None) -> Client:
    """A superuser's browser that Django's CSRF middleware checks like a real browser's."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_superuser("staff", "staff@example.com", "pw-1234567"))
    return client


def test_the_walk_sees_the_staff_forms() -> None:
    routes = staff_routes()
    assert "support/shops/<str:domain>/pause" in routes
    assert any(route.endswith("<path:object_id>/change/") for route in routes)  # admin models
    assert any(route.startswith("admin/rq/") for route in routes)
    assert len(routes) > 100


def test_every_staff_post_without_a_token_is_refused(
        staff_csrf: Client, klaviyo_sandbox: SandboxHandle) -> None:
    shop = shop_make(DOMAIN)
    klaviyo_connect(shop, klaviyo_sandbox)
    accepted = []
    for route in staff_routes():
        if route in EXEMPT:
            continue
        for domain_path in {_path(route), _path(route).replace("/shops/1/", f"/shops/{DOMAIN}/")}:
            response = staff_csrf.post(domain_path, {"action": "delete_selected",
                                                     "_selected_action": [str(shop.pk)],
                                                     "post": "yes", "token": "x"})
            if response.status_code != 403 or b"CSRF" not in response.content:
                accepted.append(f"{domain_path} → {response.status_code}")
    assert accepted == []
    assert not SupportAction.objects.exists()
    assert not LogEntry.objects.exists()  # no admin change went through
    assert KlaviyoConnection.objects.get(shop=shop).paused is False


def test_with_the_token_the_same_post_goes_through(
        staff_csrf: Client, klaviyo_sandbox: SandboxHandle) -> None:
    """The control: the refusals above are CSRF's, not a form that never accepts a POST."""
    shop = shop_make(DOMAIN)
    klaviyo_connect(shop, klaviyo_sandbox)
    page = staff_csrf.get(f"/support/shops/{DOMAIN}/")
    assert page.status_code == 200
    token = staff_csrf.cookies["csrftoken"].value
    response = staff_csrf.post(f"/support/shops/{DOMAIN}/pause", {"token": "x"},
                               HTTP_X_CSRFTOKEN=token)
    assert response.status_code in (200, 302)
    assert KlaviyoConnection.objects.get(shop=shop).paused is True
