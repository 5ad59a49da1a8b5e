"""Staff pages: the shopper search (`/support/shoppers/?q=`) and one page per shopper.

Thin: the search is `search.shoppers_search`, the page `timeline.shopper_timeline`. A query
that names no identifier answers 400 with the page saying what is wrong with `q`; an unknown
shopper answers 404. Both pages are staff only (`access.staff_required`).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from notifyme.support.access import staff_required
from notifyme.support.outcome import NOTHING_TO_FIX
from notifyme.support.search import HELP, QueryInvalid, SearchResult, shoppers_search
from notifyme.support.timeline import shopper_timeline


@staff_required
@require_safe
def shopper_search(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("q")
    context: dict[str, object] = {"q": raw or "", "help": HELP}
    if raw is None:
        return render(request, "support/shoppers.html", context)
    try:
        result: SearchResult = shoppers_search(q=raw)
    except QueryInvalid as error:
        context["error"] = {"field": "q", "message": str(error)}
        return render(request, "support/shoppers.html", context, status=400)
    context["result"] = result
    return render(request, "support/shoppers.html", context)


@staff_required
@require_safe
def shopper_detail(request: HttpRequest, subscription_id: int) -> HttpResponse:
    timeline = shopper_timeline(subscription_id=subscription_id)
    if timeline is None:
        return render(request, "support/shopper.html", {"missing": subscription_id},
                      status=404)
    return render(request, "support/shopper.html",
                  {"timeline": timeline, "nothing_to_fix": NOTHING_TO_FIX})
