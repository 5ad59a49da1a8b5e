"""The merchant's Demand page (`/app/demand`) and its JSON API (`/app/api/demand`).

What merchants ask here: what should I restock first? The page ranks the shop's variants by
subscribers waiting (or by revenue waiting = waiting times price, in the shop's currency), shows
the totals and a chart of signups per day over the last 30 or 90 days. Thin views over
`notifyme.subscriptions.demand` (a constant number of aggregate queries); the shop is the ID
token's, so a merchant only ever sees their own shop. Query parameters are validated and a bad
one is a 400 naming it (a JSON error for the API, the page with a banner for the document).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from notifyme.catalog.models import Variant
from notifyme.core.http import InputError
from notifyme.dashboard.chart import daily_bars
from notifyme.dashboard.endpoint import merchant_endpoint
from notifyme.shops.auth import EmbeddedRequest, embedded_document
from notifyme.subscriptions.demand import (
    SORTS,
    demand_by_variant,
    demand_totals,
    demand_variant_get,
    signups_by_day,
)

PAGE_SIZE = 50
MAX_LIMIT = 200
MAX_OFFSET = 10_000
MAX_DAYS = 365
PAGE_DAYS = (30, 90)


@dataclass(frozen=True)
class DemandQuery:
    sort: str
    days: int
    limit: int
    page: int
    variant: Variant | None = None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def _integer(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise InputError.for_field(name, f"{name} must be a whole number from {low} to {high}.")
    return int(text)


def demand_query(request: EmbeddedRequest, *, days_allowed: tuple[int, ...] | None = None,
                 ) -> DemandQuery:
    """The validated query parameters (`sort`, `days`, `limit`, `page`, and `variant`: the
    chart of one of the shop's variants); InputError names the first bad one."""
    sort = request.GET.get("sort") or "waiting"
    if sort not in SORTS:
        raise InputError.for_field("sort", f"sort must be one of: {', '.join(SORTS)}.")
    days = _integer(request, "days", 30, 1, MAX_DAYS)
    if days_allowed and days not in days_allowed:
        raise InputError.for_field(
            "days", f"days must be {' or '.join(str(d) for d in days_allowed)}.")
    limit = _integer(request, "limit", PAGE_SIZE, 1, MAX_LIMIT)
    page = _integer(request, "page", 1, 1, MAX_OFFSET // limit + 1)
    variant = None
    if request.GET.get("variant"):
        message = "variant must be the id of one of your variants (from this list)."
        variant_id = _integer(request, "variant", 0, 1, 2**63 - 1)
        variant = demand_variant_get(shop=request.shop, variant_id=variant_id)
        if variant is None:
            raise InputError.for_field("variant", message)
    return DemandQuery(sort=sort, days=days, limit=limit, page=page, variant=variant)


def demand_document(*, request: EmbeddedRequest, query: DemandQuery) -> dict[str, Any]:
    shop = request.shop
    rows = demand_by_variant(shop=shop, sort=query.sort, limit=query.limit + 1,
                             offset=query.offset)
    return {
        "currency": shop.currency,
        "sort": query.sort,
        "totals": demand_totals(shop=shop),
        "variants": rows[:query.limit],
        "page": query.page,
        "has_next": len(rows) > query.limit,
    }


@merchant_endpoint("GET")
def demand_api(request: EmbeddedRequest) -> HttpResponse:
    """GET /app/api/demand?sort=waiting|revenue&days=1..365&limit=1..200&page=N&variant=ID"""
    query = demand_query(request)
    document = demand_document(request=request, query=query)
    totals = document["totals"]
    return JsonResponse({
        "currency": document["currency"],
        "sort": query.sort,
        "totals": {**totals, "revenue_waiting": str(totals["revenue_waiting"])},
        "variants": [row.as_json() for row in document["variants"]],
        "page": query.page, "limit": query.limit, "has_next": document["has_next"],
        "signups": {"days": query.days,
                    "variant_id": query.variant.pk if query.variant else None,
                    "series": signups_by_day(shop=request.shop, days=query.days,
                                             variant=query.variant)},
    })


@require_GET
@embedded_document
def demand_page(request: EmbeddedRequest) -> HttpResponse:
    """GET /app/demand — the ranked waitlist and the signups chart (both ranges rendered, the
    30/90-day switch needs no request)."""
    status, error = 200, None
    try:
        query = demand_query(request, days_allowed=PAGE_DAYS)
    except InputError as invalid:
        status, error = 400, invalid.message
        query = DemandQuery(sort="waiting", days=30, limit=PAGE_SIZE, page=1)
    context = demand_document(request=request, query=query)
    series = signups_by_day(shop=request.shop, days=max(PAGE_DAYS), variant=query.variant)
    context.update({
        "error": error,
        "chart_variant": query.variant,
        "days": query.days,
        "charts": [{"days": days, "chart": daily_bars(series[-days:])} for days in PAGE_DAYS],
        "max_waiting": max((row.waiting for row in context["variants"]), default=0),
    })
    return render(request, "dashboard/demand.html", context, status=status)


urlpatterns = [
    path("demand", demand_page, name="demand"),
    path("api/demand", demand_api, name="api_demand"),
]
