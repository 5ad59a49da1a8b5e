"""`GET /app/api/restocks`: the shop's recent restocks with live progress (polled every 2 s).

A merchant endpoint like every /app/api one (`merchant_endpoint`: Bearer ID token → the shop,
JSON errors, JSON 405); the shop comes from the token, never from the URL. Mounted with one
`include` line in urls.py.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.urls import path

from notifyme.dashboard.endpoint import merchant_endpoint
from notifyme.restocks.selectors import restock_progress_list
from notifyme.shops.auth import EmbeddedRequest


@merchant_endpoint("GET")
def restocks(request: EmbeddedRequest) -> HttpResponse:
    return JsonResponse({"restocks": restock_progress_list(shop=request.shop)})


urlpatterns = [path("", restocks, name="api_restocks")]
