"""Recovered revenue in the embedded app: the page `/app/revenue`, its JSON API and fragment.

- `GET /app/revenue` (embedded document, `id_token`): the report rendered on the server (the
  numbers are in the first paint: no layout shift, nothing to wait for).
- `GET /app/api/revenue`: the report as JSON (`notifyme.revenue.selectors.revenue_report`).
- `POST /app/api/revenue` `{"window_days": 1..90}`: the attribution window; the answer is the
  report under the new window. Bad input → 400 naming `window_days`, nothing saved.
- `GET /app/api/revenue/panel`: the report fragment, re-rendered after the window changes.
The shop always comes from the ID token, so a merchant sees only their own orders.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from notifyme.core.http import InputError, fields_only, json_object_read
from notifyme.dashboard.endpoint import merchant_endpoint
from notifyme.revenue.models import MAX_WINDOW_DAYS
from notifyme.revenue.selectors import revenue_report
from notifyme.revenue.services import WindowInvalid, attribution_window_update
from notifyme.shops.auth import EmbeddedRequest, embedded_document

WINDOW_FIELD = "window_days"


def _context(request: EmbeddedRequest) -> dict[str, Any]:
    return {"shop": request.shop, "report": revenue_report(shop=request.shop),
            "api_key": settings.SHOPIFY_API_KEY, "max_window_days": MAX_WINDOW_DAYS}


@require_GET
@embedded_document
def revenue_page(request: EmbeddedRequest) -> HttpResponse:
    """GET /app/revenue — what the alerts earned, inside the Shopify admin."""
    context = _context(request)
    context["use_app_bridge"] = not (
        settings.NOTIFYME_DEV_TOOLS and request.GET.get("dev_frame") == "1")
    return render(request, "dashboard/revenue.html", context)


def _window(data: dict[str, Any]) -> int:
    fields_only(data, (WINDOW_FIELD,))
    value = data.get(WINDOW_FIELD)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())  # a form posts text
    message = f"Enter a whole number of days from 1 to {MAX_WINDOW_DAYS}."
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError.for_field(WINDOW_FIELD, message)
    return value


@merchant_endpoint("GET", "POST")
def revenue_api(request: EmbeddedRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            attribution_window_update(shop=request.shop,
                                      window_days=_window(json_object_read(request)))
        except WindowInvalid as invalid:
            raise InputError.for_field(WINDOW_FIELD, str(invalid)) from None
    return JsonResponse(revenue_report(shop=request.shop))


@merchant_endpoint("GET")
def revenue_panel(request: EmbeddedRequest) -> HttpResponse:
    return render(request, "dashboard/_revenue_report.html", _context(request))
