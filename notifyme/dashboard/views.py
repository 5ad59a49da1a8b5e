"""The embedded settings page (server-rendered) and the App Bridge bounce page. Views stay thin:
reads come from selectors (`notifyme.sync.selectors.sync_status`), writes go through the JSON
API (`api.py`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from integrations.klaviyo.scopes import REQUIRED_SCOPES
from notifyme.catalog.sync import catalog_sync_unfinished
from notifyme.dashboard.endpoint import merchant_endpoint
from notifyme.dashboard.flow_api import panel_context as flow_panel_context
from notifyme.privacy.selectors import compliance_notices, compliance_requests_list
from notifyme.restocks.selectors import restock_progress_list
from notifyme.shops.auth import EmbeddedRequest, embedded_document
from notifyme.sync.selectors import sync_status

#: Panels other features add to the page when their template exists. (Restock progress is not
#: one of them: it has its own page, and its summary sits at the top, above the settings.)
CATALOG_SYNC_PANEL = "dashboard/_catalog_sync.html"
FLOW_PANEL = "dashboard/_klaviyo_flow.html"
EXTRA_PANELS = (FLOW_PANEL, CATALOG_SYNC_PANEL, "dashboard/_privacy.html")
#: The latest restocks summarised above the settings (all of them: /app/restocks).
SUMMARY_RESTOCKS = 3


def _extra_panels() -> list[str]:
    found = []
    for name in EXTRA_PANELS:
        try:
            get_template(name)
        except TemplateDoesNotExist:
            continue
        found.append(name)
    return found


def page_context(request: EmbeddedRequest) -> dict[str, Any]:
    shop = request.shop
    status = sync_status(shop=shop, iso=False)
    verified = set(status["scopes_verified"])
    return {
        "shop": shop,
        "k": status,
        "scopes": [{"name": s, "ok": s in verified} for s in status["scopes_required"]],
        "features": REQUIRED_SCOPES,
        "api_key": settings.SHOPIFY_API_KEY,
        "extra_panels": _extra_panels(),
        "privacy_requests": compliance_requests_list(shop=shop),
        "privacy_notices": compliance_notices(shop=shop),
        **flow_panel_context(shop),
    }


@require_GET
@embedded_document
def home(request: EmbeddedRequest) -> HttpResponse:
    """GET /app/ — the Klaviyo settings page inside the Shopify admin."""
    context = page_context(request)
    context["restocks"] = restock_progress_list(shop=request.shop, limit=SUMMARY_RESTOCKS)
    # Live progress first: a catalog sync under way (the one on install, for a new merchant)
    # shows at the top with the restocks, not under the settings; once done, its re-sync card
    # goes back below them.
    if CATALOG_SYNC_PANEL in context["extra_panels"] and catalog_sync_unfinished(shop=request.shop):
        context["extra_panels"].remove(CATALOG_SYNC_PANEL)
        context["catalog_sync_first"] = CATALOG_SYNC_PANEL
    context["use_app_bridge"] = not (
        settings.NOTIFYME_DEV_TOOLS and request.GET.get("dev_frame") == "1"
    )
    return render(request, "dashboard/settings.html", context)


@merchant_endpoint("GET")
def panel(request: EmbeddedRequest) -> HttpResponse:
    """GET /app/api/klaviyo/panel — the status panel fragment, re-rendered after each action."""
    return render(request, "dashboard/_panel.html", page_context(request))


@require_GET
@xframe_options_exempt
def bounce(request: HttpRequest) -> HttpResponse:
    """GET /app/bounce — only App Bridge (and the dev stand-in's token relay), which fetch a
    fresh ID token and reload `shopify-reload`. No shop data here: it is unauthenticated."""
    dev_frame = settings.NOTIFYME_DEV_TOOLS and request.GET.get("dev_frame") == "1"
    response = render(request, "dashboard/bounce.html", {
        "api_key": settings.SHOPIFY_API_KEY, "use_app_bridge": not dev_frame,
        "dev_admin_url": "/dev/admin/" if settings.NOTIFYME_DEV_TOOLS else "",
    })
    response["Cache-Control"] = "no-store"
    return response
