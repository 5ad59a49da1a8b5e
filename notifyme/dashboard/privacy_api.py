"""The merchant's privacy panel API under /app/api/privacy (bearer ID token; the shop comes from
the token, never the URL; another shop's request id is a 404 like an unknown one).

- `GET  /app/api/privacy`: `{"requests": [...], "notices": [...]}` — the audit rows (topic, when,
  counts, Klaviyo outcome, what the merchant still has to do), no personal data.
- `GET  /app/api/privacy/report?request=<id>`: the customer data report of an open
  `customers/data_request`, built from the live rows (404 `report_unavailable` once provided,
  expired or erased).
- `GET  /app/api/privacy/export?request=<id>&format=json|csv`: the same as a download.
- `POST /app/api/privacy/provided` `{"request": <id>}`: the merchant gave the shopper the
  report; the app forgets the request's subject (the audit row stays).
Responses carrying the report are `Cache-Control: no-store`.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse, JsonResponse
from django.urls import path

from notifyme.core.http import InputError, fields_only, json_error, json_object_read
from notifyme.dashboard.endpoint import merchant_endpoint
from notifyme.privacy import reports, selectors, services
from notifyme.privacy.models import ComplianceRequest
from notifyme.shops.auth import EmbeddedRequest

FORMATS = ("json", "csv")


def _request_id(raw: Any) -> int:
    text = str(raw if raw is not None else "").strip()
    if not text.isdigit() or len(text) > 18:
        raise InputError.for_field("request", "Give the request's id (a whole number).")
    return int(text)


def _found(request: EmbeddedRequest, raw: Any) -> ComplianceRequest:
    row = selectors.compliance_request_get(shop=request.shop, request_id=_request_id(raw))
    if row is None or row.topic != ComplianceRequest.Topic.DATA_REQUEST:
        raise InputError(404, "not_found", "No such data request for this shop.",
                         {"request": ["No such data request for this shop."]})
    return row


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


@merchant_endpoint("GET")
def overview(request: EmbeddedRequest) -> HttpResponse:
    return JsonResponse({"requests": selectors.compliance_requests_list(shop=request.shop),
                         "notices": selectors.compliance_notices(shop=request.shop)})


def _report(request: EmbeddedRequest) -> dict[str, Any] | HttpResponse:
    fields_only(request.GET, ("request", "format"))
    row = _found(request, request.GET.get("request"))
    try:
        return reports.data_request_report(request=row)
    except reports.ReportUnavailable as gone:
        return json_error(404, "report_unavailable", str(gone))


@merchant_endpoint("GET")
def report(request: EmbeddedRequest) -> HttpResponse:
    built = _report(request)
    if isinstance(built, HttpResponse):
        return built
    return _no_store(JsonResponse({"report": built}))


@merchant_endpoint("GET")
def export(request: EmbeddedRequest) -> HttpResponse:
    chosen = request.GET.get("format", "json")
    if chosen not in FORMATS:
        raise InputError.for_field("format", "Choose format json or csv.")
    built = _report(request)
    if isinstance(built, HttpResponse):
        return built
    name = f"data-request-{built['request']['id']}.{chosen}"
    if chosen == "csv":
        response = HttpResponse(reports.report_csv(built), content_type="text/csv")
    else:
        response = HttpResponse(json.dumps(built, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _no_store(response)


@merchant_endpoint("POST")
def provided(request: EmbeddedRequest) -> HttpResponse:
    data = json_object_read(request)
    fields_only(data, ("request",))
    row = _found(request, data.get("request"))
    services.data_request_provided(request=row)
    return JsonResponse({"request": selectors.compliance_request_view(row)})


#: Under /app/api/privacy/ (the overview itself is mounted at /app/api/privacy in urls.py).
urlpatterns = [
    path("report", report, name="api_privacy_report"),
    path("export", export, name="api_privacy_export"),
    path("provided", provided, name="api_privacy_provided"),
]
