"""`GET/POST /app/api/catalog/sync`: the shop's catalog sync — its progress, or a full re-sync.

A merchant endpoint like every /app/api one (`merchant_endpoint`: Bearer ID token → the shop,
JSON errors, JSON 405); the shop comes from the token, never from the URL or the body.
- GET → 200 `{"sync": <progress> | null}` (the latest sync; the panel polls it every 2 s).
- POST `{"mode": "auto" | "paging" | "bulk"}` (optional, default auto) → 202 with the new
  sync; 409 `sync_running` with the running one; 400 naming `mode` for another value.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.urls import path

from notifyme.catalog.sync import (
    MODES,
    SyncAlreadyRunning,
    catalog_sync_latest,
    catalog_sync_progress,
    catalog_sync_start,
)
from notifyme.core.http import InputError, json_error, json_object_read
from notifyme.dashboard.endpoint import merchant_endpoint
from notifyme.shops.auth import EmbeddedRequest


@merchant_endpoint("GET", "POST")
def catalog_sync(request: EmbeddedRequest) -> HttpResponse:
    if request.method == "GET":
        latest = catalog_sync_latest(shop=request.shop)
        return JsonResponse({"sync": catalog_sync_progress(latest)})
    body = json_object_read(request)
    mode = body.get("mode", "auto")
    if mode not in MODES:
        raise InputError.for_field("mode", f"Choose one of: {', '.join(MODES)}.")
    try:
        sync = catalog_sync_start(shop=request.shop, mode=mode)
    except SyncAlreadyRunning as running:
        return json_error(409, "sync_running", "A catalog sync is already running.",
                          sync=catalog_sync_progress(running.sync))
    return JsonResponse({"sync": catalog_sync_progress(sync)}, status=202)


urlpatterns = [path("sync", catalog_sync, name="api_catalog_sync")]
