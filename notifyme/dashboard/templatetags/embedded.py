"""Template tags every embedded page's base template uses, so a page view only passes its own
data: App Bridge on or off, the app's API key, and links between pages that keep the admin's
query (`shop`, `host`, `embedded`, the dev frame flag) but never the short-lived `id_token`.

Why not keep the token in links: it expires after a minute, and a link must work later too. A
link without one goes through the bounce page, which fetches a fresh token and reloads (App
Bridge in the admin; the admin stand-in's relay in development), exactly like the admin does.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.http import HttpRequest

register = template.Library()

#: Query parameters the Shopify admin puts on the app URL that a link inside the app keeps.
KEPT_PARAMS = ("shop", "host", "embedded", "locale", "dev_frame")

#: The app's pages, in the order of the admin's app navigation (`<ui-nav-menu>`). The first is
#: the app's home: App Bridge shows it as the app name, not as a menu entry.
NAV = (
    ("/app/", "Settings"),
    ("/app/subscribers", "Subscribers"),
    ("/app/demand", "Demand"),
    ("/app/restocks", "Restocks"),
    ("/app/revenue", "Revenue"),
)


def dev_frame(request: HttpRequest | None) -> bool:
    """The local admin stand-in embeds the app with `dev_frame=1` (dev tools only): no App
    Bridge there, the frame relays ID tokens itself."""
    return bool(request is not None and settings.NOTIFYME_DEV_TOOLS
                and request.GET.get("dev_frame") == "1")


def app_href(request: HttpRequest | None, path: str, **params: Any) -> str:
    """`path` with the admin's kept query parameters of `request`, plus `params`."""
    pairs = [(k, request.GET[k]) for k in KEPT_PARAMS if request is not None and k in request.GET]
    pairs += [(k, str(v)) for k, v in params.items() if v is not None]
    return path + ("?" + urlencode(pairs) if pairs else "")


@register.simple_tag(takes_context=True)
def app_url(context: dict[str, Any], path: str, **params: Any) -> str:
    """`{% app_url "/app/demand" days=90 %}`: a link to another page of the embedded app."""
    return app_href(context.get("request"), path, **params)


@register.simple_tag(takes_context=True)
def use_app_bridge(context: dict[str, Any]) -> bool:
    return not dev_frame(context.get("request"))


@register.simple_tag
def shopify_api_key() -> str:
    return str(settings.SHOPIFY_API_KEY)


@register.simple_tag(takes_context=True)
def app_nav(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The navigation entries with their links and which one is the current page."""
    request = context.get("request")
    current = request.path if request is not None else ""
    return [{"href": app_href(request, path), "path": path, "label": label,
             "current": current.rstrip("/") == path.rstrip("/")} for path, label in NAV]
