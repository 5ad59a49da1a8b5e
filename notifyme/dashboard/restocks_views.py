"""The merchant's Restocks page (`/app/restocks`): every recent restock with live progress,
batches and outcome first (what a merchant opens the page for), then the sending settings
(threshold, batches, interval, cool-down) and the locations whose stock counts.

A thin document view: the reads come from `restocks.selectors` and `catalog.selectors`, the
writes go through the JSON API (`/app/api/restocks/settings`, `/app/api/locations`) that the
page's script calls with a fresh ID token. The shop is the ID token's.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from notifyme.catalog.selectors import locations_list
from notifyme.dashboard.restock_settings_api import (
    NUMBERS,
    restock_settings,
    restock_settings_json,
)
from notifyme.restocks.selectors import restock_progress_list
from notifyme.restocks.services import restock_settings_get
from notifyme.shops.auth import EmbeddedRequest, embedded_document

PAGE_RESTOCKS = 25


@require_GET
@embedded_document
def restocks_page(request: EmbeddedRequest) -> HttpResponse:
    """GET /app/restocks"""
    shop = request.shop
    return render(request, "dashboard/restocks.html", {
        "restocks": restock_progress_list(shop=shop, limit=PAGE_RESTOCKS),
        "restocks_limit": PAGE_RESTOCKS,
        "settings": restock_settings_json(restock_settings_get(shop=shop)),
        "bounds": NUMBERS,
        "locations": locations_list(shop=shop),
    })


urlpatterns = [
    path("restocks", restocks_page, name="restocks"),
    path("api/restocks/settings", restock_settings, name="api_restock_settings"),
]
