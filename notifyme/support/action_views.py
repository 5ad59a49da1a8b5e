"""Staff action endpoints under /support/shops/<domain>/… (thin over `notifyme.support.actions`).

Every action is a staff-only POST with Django's CSRF check; the retry preview is a GET that
writes nothing. Answers: JSON when the client asks for it (`Accept: application/json`), else a
page — or a redirect to a safe local `next` (the board's buttons send one). Unknown shop or
record → 404, wrong method → 405, a missing or stale preview token → 400 / 409, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from notifyme.shops.models import Shop
from notifyme.support import actions
from notifyme.support.access import staff_required
from notifyme.support.models import SupportAction
from notifyme.support.retry_plan import RetryPlan, UnknownRecord, parse_record, retry_plan

ShopAction = Callable[..., SupportAction]


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _error(request: HttpRequest, status: int, code: str, message: str, *,
           field: str = "", plan: RetryPlan | None = None) -> HttpResponse:
    if _wants_json(request):
        body: dict[str, Any] = {"error": {"code": code, "message": message}}
        if field:
            body["error"]["field"] = field
        if plan is not None:
            body["preview"] = _plan_json(plan)
        return JsonResponse(body, status=status)
    return render(request, "support/action_error.html",
                  {"code": code, "message": message, "field": field, "plan": plan},
                  status=status)


def _shop(domain: str) -> Shop | None:
    return Shop.objects.filter(domain=domain.strip().lower()).first()


def _shop_page(shop: Shop) -> str:
    """The board's page for this shop when it exists (h-board), else the board."""
    for name, kwargs in (("support:shop", {"domain": shop.domain}), ("support:board", {})):
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    return ""


def action_json(action: SupportAction) -> dict[str, Any]:
    return {"id": action.pk, "kind": action.kind, "outcome": action.outcome,
            "detail": action.detail, "counts": action.counts, "shop": action.shop_domain,
            "by": action.actor_username, "at": action.created_at.isoformat(),
            "finished_at": action.finished_at.isoformat() if action.finished_at else None}


def _plan_json(plan: RetryPlan) -> dict[str, Any]:
    return {"token": plan.token, "more": plan.more, "blocked": plan.blocked,
            "waiting": plan.waiting,
            "records": [{"ref": r.ref, "kind": r.kind, "subscription_id": r.subscription_id,
                         "shopper": r.shopper, "what": r.what, "failed_because": r.failed_because}
                        for r in plan.records],
            "calls": [{"operation": c.operation, "method": c.method, "path": c.path,
                       "records": c.records, "body": c.body} for c in plan.calls]}


def _done(request: HttpRequest, action: SupportAction) -> HttpResponse:
    status = 200 if action.outcome != SupportAction.Outcome.QUEUED else 202
    if _wants_json(request):
        return JsonResponse({"action": action_json(action)}, status=status)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        messages.info(request, f"{action.get_kind_display()}: {action.detail}")
        return redirect(target)
    return render(request, "support/action_result.html",
                  {"action": action, "shop_page": _shop_page(action.shop) if action.shop else ""},
                  status=status)


def _simple(service: ShopAction) -> Callable[..., HttpResponse]:
    @staff_required
    @require_POST
    def view(request: HttpRequest, domain: str) -> HttpResponse:
        shop = _shop(domain)
        if shop is None:
            return _error(request, 404, "unknown_shop", f"No shop {domain!r}.", field="domain")
        return _done(request, service(actor=request.user, shop=shop))
    view.__name__ = view.__qualname__ = service.__name__
    view.__doc__ = service.__doc__
    return view


shop_reverify = _simple(actions.shop_reverify)
shop_pause = _simple(actions.shop_pause)
shop_resume = _simple(actions.shop_resume)
shop_reconcile = _simple(actions.shop_reconcile)


def _record_param(raw: str) -> str | None:
    """"" or "all" → every failed record; else a record reference (UnknownRecord if bad)."""
    value = (raw or "").strip()
    if value in ("", "all"):
        return None
    parse_record(value)
    return value


@staff_required
@require_GET
def shop_retry_preview(request: HttpRequest, domain: str) -> HttpResponse:
    """GET …/retry/preview?record=<sync-ID|delivery-ID|all>: what the retry would send."""
    shop = _shop(domain)
    if shop is None:
        return _error(request, 404, "unknown_shop", f"No shop {domain!r}.", field="domain")
    try:
        record = _record_param(request.GET.get("record", ""))
        plan = retry_plan(shop=shop, record=record)
    except UnknownRecord:
        return _error(request, 404, "unknown_record", "No failed record "
                      f"{request.GET.get('record', '')!r} for this shop.", field="record")
    if _wants_json(request):
        return JsonResponse({"shop": shop.domain, "record": record or "all",
                             "preview": _plan_json(plan)})
    return render(request, "support/retry_preview.html",
                  {"shop": shop, "plan": plan, "record": record or "all",
                   "shop_page": _shop_page(shop)})


@staff_required
@require_POST
def shop_retry(request: HttpRequest, domain: str) -> HttpResponse:
    """POST …/retry (token=<preview token>, record=<…|all>): queue exactly the previewed set."""
    shop = _shop(domain)
    if shop is None:
        return _error(request, 404, "unknown_shop", f"No shop {domain!r}.", field="domain")
    token = request.POST.get("token", "").strip()
    if not token:
        return _error(request, 400, "token_required", "Preview the retry first: the retry "
                      "needs the preview's token.", field="token")
    try:
        record = _record_param(request.POST.get("record", ""))
        action = actions.shop_retry(actor=request.user, shop=shop, token=token, record=record)
    except UnknownRecord:
        return _error(request, 404, "unknown_record", "No failed record "
                      f"{request.POST.get('record', '')!r} for this shop.", field="record")
    except actions.PlanChanged as changed:
        return _error(request, 409, "preview_changed", str(changed), field="token",
                      plan=changed.plan)
    return _done(request, action)
