"""Staff pages of the board part: the health board, one page per shop, the error catalogue.

Thin: each view checks staff (`staff_required`), cleans its input (a bad value is a 400 page
naming the field), calls one selector and renders. Nothing here writes.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from notifyme.support import catalogue
from notifyme.support.access import staff_required
from notifyme.support.board import BoardQueryInvalid, board_page, board_query_clean
from notifyme.support.diagnose import ShopUnknown, shop_diagnose

#: Buttons the shop page offers when the actions part is installed (URL name, label).
SHOP_ACTIONS = (
    ("support:shop_reverify", "Re-verify connection"),
    ("support:shop_retry_preview", "Retry failed records…"),
    ("support:shop_pause", "Pause sync"),
    ("support:shop_resume", "Resume sync"),
    ("support:shop_reconcile", "Re-run stock reconciliation"),
)


def _problem(request: HttpRequest, status: int, field: str, message: str) -> HttpResponse:
    return render(request, "support/problem.html",
                  {"status": status, "field": field, "message": message}, status=status)


@staff_required
@require_safe
def board(request: HttpRequest) -> HttpResponse:
    try:
        status, q, page = board_query_clean(status=request.GET.get("status"),
                                            q=request.GET.get("q"), page=request.GET.get("page"))
    except BoardQueryInvalid as invalid:
        return _problem(request, 400, invalid.field, invalid.message)
    data = board_page(status=status, q=q, page=page, now=timezone.now(),
                      today=timezone.localdate())
    return render(request, "support/board.html", {"board": data})


@staff_required
@require_safe
def shop(request: HttpRequest, domain: str) -> HttpResponse:
    try:
        diagnosis = shop_diagnose(domain=domain, now=timezone.now(), today=timezone.localdate())
    except ShopUnknown:
        return _problem(request, 404, "domain", f"No shop {domain!r} has installed the app.")
    return render(request, "support/shop.html",
                  {"d": diagnosis, "facts": diagnosis.facts, "actions": SHOP_ACTIONS})


@staff_required
@require_safe
def errors(request: HttpRequest) -> HttpResponse:
    groups = [(source, catalogue.entries(source)) for source in catalogue.SOURCES]
    return render(request, "support/errors.html", {"groups": groups})


@staff_required
@require_safe
def error(request: HttpRequest, source: str, kind: str) -> HttpResponse:
    found = catalogue.ENTRIES.get((source, kind))
    if found is None:
        return _problem(request, 404, "kind", f"The catalogue has no {source}/{kind} error.")
    return render(request, "support/error.html", {"entry": found})
