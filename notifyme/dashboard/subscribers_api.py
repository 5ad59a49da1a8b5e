"""The Subscribers page (`/app/subscribers`) and its JSON API under `/app/api/subscribers`.

Mounted with one `include` line in urls.py. Every endpoint is a `merchant_endpoint` (Bearer ID
token → the shop; JSON errors naming the field; JSON 405), the page an `embedded_document`;
the shop always comes from the token, so ids of another shop's rows are plain 404s.

- GET  api/subscribers?q=&status=&sync_state=&variant_id=&cursor=&limit= → one page, newest
  first: `{"subscribers": [...], "next_cursor": id | null, "total": n}` (limit 1-200, default 50)
- DELETE api/subscribers/<id> → the alert cancelled (`{"subscriber": ..., "removed": bool}`)
- GET  api/subscribers/export.csv?<same filters> → streamed CSV of every match
- POST api/subscribers/imports (multipart, field `file`) → 200 done (small file) or 202 queued
- GET  api/subscribers/imports/<id> → progress; GET api/subscribers/imports/<id>/errors.csv
"""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from notifyme.core.http import InputError, json_error
from notifyme.dashboard.endpoint import merchant_endpoint
from notifyme.shops.auth import EmbeddedRequest, embedded_document
from notifyme.subscriptions.models import Subscription
from notifyme.waitlists import csvfile
from notifyme.waitlists.importing import (
    MAX_BYTES,
    REPORT_HEADER,
    TooLarge,
    too_large_sentence,
    waitlist_import_start,
)
from notifyme.waitlists.selectors import (
    SubscriberFilters,
    import_get,
    import_progress,
    imports_recent,
    subscriber_count,
    subscriber_page,
    subscriber_row,
    subscribers_csv,
)
from notifyme.waitlists.services import subscriber_remove

MAX_LIMIT = 200
PAGE_SIZE = 50
MAX_QUERY = 100
#: Multipart framing around the file (boundaries, part headers) on top of the file cap.
MULTIPART_SLACK = 64 * 1024


def _whole_number(name: str, raw: str, *, low: int, high: int) -> int:
    value = raw.strip()
    if not (value.isascii() and value.isdigit() and low <= int(value) <= high):
        raise InputError.for_field(name, f"{name} must be a whole number from {low} to {high}.")
    return int(value)


def _choice(name: str, raw: str, choices: list[str]) -> str:
    if raw and raw not in choices:
        raise InputError.for_field(name, f"{name} must be one of: {', '.join(choices)}.")
    return raw


def filters_read(request: EmbeddedRequest) -> SubscriberFilters:
    """The list/export filters from the query string; InputError naming a bad one."""
    params = request.GET
    q = params.get("q", "").strip()
    if len(q) > MAX_QUERY or any(ord(ch) < 32 or ch == "\x7f" for ch in q):
        raise InputError.for_field("q", f"q must be text of at most {MAX_QUERY} characters.")
    variant = params.get("variant_id", "")
    return SubscriberFilters(
        q=q,
        status=_choice("status", params.get("status", ""), Subscription.Status.values),
        sync_state=_choice("sync_state", params.get("sync_state", ""),
                           Subscription.SyncState.values),
        variant_id=_whole_number("variant_id", variant, low=1, high=2**63 - 1)
        if variant else None,
    )


@merchant_endpoint("GET")
def subscribers(request: EmbeddedRequest) -> HttpResponse:
    filters = filters_read(request)
    raw_cursor, raw_limit = request.GET.get("cursor", ""), request.GET.get("limit", "")
    cursor = _whole_number("cursor", raw_cursor, low=1, high=2**63 - 1) if raw_cursor else None
    limit = _whole_number("limit", raw_limit, low=1, high=MAX_LIMIT) if raw_limit else PAGE_SIZE
    rows, next_cursor = subscriber_page(shop=request.shop, filters=filters, cursor=cursor,
                                        limit=limit)
    return JsonResponse({"subscribers": rows, "next_cursor": next_cursor,
                         "total": subscriber_count(shop=request.shop, filters=filters)})


@merchant_endpoint("DELETE")
def subscriber(request: EmbeddedRequest, subscription_id: int) -> HttpResponse:
    found, removed = subscriber_remove(shop=request.shop, subscription_id=subscription_id)
    if found is None:
        return json_error(404, "not_found", "No such subscriber.")
    return JsonResponse({"subscriber": subscriber_row(found), "removed": removed})


@merchant_endpoint("GET")
def export(request: EmbeddedRequest) -> HttpResponse:
    filters = filters_read(request)
    response = StreamingHttpResponse(subscribers_csv(shop=request.shop, filters=filters),
                                     content_type="text/csv; charset=utf-8")
    name = request.shop.domain.removesuffix(".myshopify.com")
    response["Content-Disposition"] = f'attachment; filename="subscribers-{name}.csv"'
    # Streamed (the point), yet served like any response of the API: same headers, same CSP.
    return cast(HttpResponse, response)


def _upload(request: EmbeddedRequest) -> tuple[bytes, str]:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise InputError(400, "invalid_request", "The Content-Length header is not a number."
                         ) from None
    if length > MAX_BYTES + MULTIPART_SLACK:
        raise InputError(413, "too_large", too_large_sentence(),
                         {"file": [too_large_sentence()]})
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise InputError.for_field("file", "Upload the CSV as multipart/form-data, field file.")
    upload = request.FILES.get("file")
    if upload is None:
        raise InputError.for_field("file", "Choose a CSV file to import.")
    if upload.size is not None and upload.size > MAX_BYTES:
        raise InputError(413, "too_large", too_large_sentence(),
                         {"file": [too_large_sentence()]})
    return upload.read(MAX_BYTES + 1), upload.name or ""


@merchant_endpoint("GET", "POST")
def imports(request: EmbeddedRequest) -> HttpResponse:
    if request.method == "GET":
        return JsonResponse({"imports": [import_progress(b)
                                         for b in imports_recent(shop=request.shop)]})
    raw, filename = _upload(request)
    try:
        batch = waitlist_import_start(shop=request.shop, raw=raw, filename=filename)
    except TooLarge as error:
        return json_error(413, "too_large", str(error), {"file": [str(error)]})
    except csvfile.FileInvalid as error:
        return json_error(400, "invalid_file", str(error), {"file": [str(error)]})
    done = batch.state == batch.State.DONE
    return JsonResponse({"import": import_progress(batch)}, status=200 if done else 202)


@merchant_endpoint("GET")
def import_status(request: EmbeddedRequest, import_id: int) -> HttpResponse:
    batch = import_get(shop=request.shop, import_id=import_id)
    if batch is None:
        return json_error(404, "not_found", "No such import.")
    return JsonResponse({"import": import_progress(batch)})


@merchant_endpoint("GET")
def import_errors(request: EmbeddedRequest, import_id: int) -> HttpResponse:
    batch = import_get(shop=request.shop, import_id=import_id)
    if batch is None:
        return json_error(404, "not_found", "No such import.")
    response = HttpResponse("\ufeff" + REPORT_HEADER + batch.error_report,
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
    return response


@require_GET
@embedded_document
def page(request: EmbeddedRequest) -> HttpResponse:
    """GET /app/subscribers — the list, filters, export and import inside the Shopify admin.
    The first page and the recent imports are in the document, so nothing shifts on load."""
    everyone = SubscriberFilters()
    rows, next_cursor = subscriber_page(shop=request.shop, filters=everyone, cursor=None,
                                        limit=PAGE_SIZE)
    return render(request, "dashboard/subscribers.html", {
        "shop": request.shop, "api_key": settings.SHOPIFY_API_KEY,
        "rows": rows, "next_cursor": next_cursor,
        "total": subscriber_count(shop=request.shop, filters=everyone),
        "imports": [import_progress(b) for b in imports_recent(shop=request.shop)],
        "use_app_bridge": not (settings.NOTIFYME_DEV_TOOLS
                               and request.GET.get("dev_frame") == "1"),
        "statuses": Subscription.Status.choices, "sync_states": Subscription.SyncState.choices,
        "max_mb": MAX_BYTES // (1024 * 1024),
    })


urlpatterns = [
    path("subscribers", page, name="subscribers"),
    path("api/subscribers", subscribers, name="api_subscribers"),
    path("api/subscribers/export.csv", export, name="api_subscribers_export"),
    path("api/subscribers/imports", imports, name="api_subscriber_imports"),
    path("api/subscribers/imports/<int:import_id>", import_status,
         name="api_subscriber_import"),
    path("api/subscribers/imports/<int:import_id>/errors.csv", import_errors,
         name="api_subscriber_import_errors"),
    path("api/subscribers/<int:subscription_id>", subscriber, name="api_subscriber"),
]
