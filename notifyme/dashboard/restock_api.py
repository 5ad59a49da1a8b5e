"""`GET /app/api/restocks`: the shop's recent restocks with live progress (polled every 2 s).

Authenticated like every /app/api endpoint (`embedded_api`: Bearer ID token → `request.shop`);
the shop comes from the token, never from the URL. Mounted with one `include` line in urls.py.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.http import require_GET

from notifyme.restocks.selectors import restock_progress_list
from notifyme.shops.auth import embedded_api


@require_GET
@embedded_api
def restocks(request: HttpRequest) -> HttpResponse:
    shop = request.shop  # type: ignore[attr-defined]
    return JsonResponse({"restocks": restock_progress_list(shop=shop)})


urlpatterns = [path("", restocks, name="api_restocks")]
