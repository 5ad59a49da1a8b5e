"""`GET /app/api/restocks`: the shop's recent restocks with live progress (polled every 2 s);
`GET/POST /app/api/restocks/settings` (the sending settings) is restock_settings_api.py.

A merchant endpoint like every /app/api one (`merchant_endpoint`: Bearer ID token → the shop,
JSON errors, JSON 405); the shop comes from the token, never from the URL. `?limit=1..50`
(default 10) says how many restocks, newest first. Mounted with one `include` line in urls.py.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.urls import path

from notifyme.core.http import InputError
from notifyme.dashboard.endpoint import merchant_endpoint
from notifyme.restocks.selectors import restock_progress_list
from notifyme.shops.auth import EmbeddedRequest

MAX_LIMIT = 50


def limit_of(raw: str | None, default: int = 10) -> int:
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise InputError.for_field("limit", f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


@merchant_endpoint("GET")
def restocks(request: EmbeddedRequest) -> HttpResponse:
    limit = limit_of(request.GET.get("limit"))
    return JsonResponse({"restocks": restock_progress_list(shop=request.shop, limit=limit)})


urlpatterns = [path("", restocks, name="api_restocks")]
