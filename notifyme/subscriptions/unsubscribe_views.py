"""`/proxy/unsubscribe`: a shopper withdraws from an alert with the token from their link.

GET shows a small confirmation page; POST (form field `token`) cancels the alert — and with
`marketing=1` (a separate button on the page) also unsubscribes the shopper from the shop's
marketing emails and texts. Cancelling alone never touches marketing consent. Reached two ways:

- through the app proxy (a signed query): the signature must verify and the token must belong
  to the signed shop. Email tools' tracking parameters (`utm_*`, Klaviyo's `_kx`) are accepted
  and ignored; when one of them makes the signed query ambiguous (a value with `=`, a repeat),
  the request is read as a direct link (see notifyme/shops/proxy.py);
- directly from an email/SMS link (no `signature` in the query): the unguessable token alone
  authorises.

CSRF-exempt because the proxy strips cookies; the token is the credential. POST with a JSON body
(`{"token": ..., "marketing": true}`) answers JSON instead of HTML.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from notifyme.core.http import json_error
from notifyme.shops.models import Shop
from notifyme.shops.proxy import (
    AppProxyError,
    UnreadableProxyQuery,
    app_proxy_verify,
    is_proxy_signed,
)
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.request_body import PayloadError, request_payload_read
from notifyme.subscriptions.selectors import subscription_get_by_token
from notifyme.subscriptions.services import subscription_unsubscribe
from notifyme.subscriptions.views import variant_label

TEMPLATE = "subscriptions/unsubscribe.html"
INVALID_LINK = "This unsubscribe link is invalid or no longer works."
ENDED = (Subscription.Status.UNSUBSCRIBED, Subscription.Status.REDACTED)
MARKETING_YES = (True, "1", "on", "true", "yes")


def mask_contact(subscription: Subscription) -> str:
    """Enough of the address for the shopper to recognise it, not enough to harvest it."""
    email = subscription.email_display or subscription.email
    if email:
        local, _, domain = email.rpartition("@")
        return f"{local[:1]}•••@{domain}"
    if subscription.phone:
        return f"•••{subscription.phone[-4:]}"
    return ""


def _page(request: HttpRequest, state: str, status: int = 200, **context: Any) -> HttpResponse:
    response = render(request, TEMPLATE, {"state": state, **context}, status=status)
    # The token is in the URL: keep it out of caches and Referer headers; never index the page.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def _signed_shop(request: HttpRequest) -> Shop | None:
    """The signed shop for proxied requests, None for direct links; raise on a bad signature.

    The token is the link's authority, the signature only narrows it to one shop; so a query a
    tracking parameter left with several readings is read like the direct link (None).
    """
    if not is_proxy_signed(request):
        return None
    try:
        return app_proxy_verify(request, allow_tracking=True).shop
    except UnreadableProxyQuery:
        return None


def _context(subscription: Subscription) -> dict[str, Any]:
    return {
        "subscription": subscription,
        "product": variant_label(subscription.variant),
        "shop_name": subscription.shop.display_name,
        "contact": mask_contact(subscription),
        "offer_marketing": subscription.marketing_withdrawn_at is None
        and subscription.status != Subscription.Status.REDACTED,
    }


def _get(request: HttpRequest) -> HttpResponse:
    try:
        shop = _signed_shop(request)
    except AppProxyError as error:
        return _page(request, "error", error.status, message=error.message)
    token = request.GET.get("token", "")
    subscription = subscription_get_by_token(token=token, shop=shop)
    if subscription is None:
        return _page(request, "invalid", 404, message=INVALID_LINK)
    state = "already" if subscription.status in ENDED else "confirm"
    return _page(request, state, token=token, **_context(subscription))


def _post(request: HttpRequest) -> HttpResponse:
    wants_json = (request.content_type or "").lower() == "application/json"
    try:
        shop = _signed_shop(request)
        data = request_payload_read(request)
    except AppProxyError as error:
        if wants_json:
            return error.as_json()
        return _page(request, "error", error.status, message=error.message)
    except PayloadError as error:
        if wants_json:
            return json_error(error.status, error.code, error.message, error.fields or None)
        return _page(request, "error", error.status, message=error.message)
    token = data.get("token")
    subscription = (
        subscription_get_by_token(token=token, shop=shop) if isinstance(token, str) else None
    )
    if subscription is None:
        if wants_json:
            return json_error(404, "invalid_token", INVALID_LINK, {"token": [INVALID_LINK]})
        return _page(request, "invalid", 404, message=INVALID_LINK)
    marketing = data.get("marketing") in MARKETING_YES
    was_active = subscription.status not in ENDED
    changed = subscription_unsubscribe(subscription=subscription, marketing=marketing)
    cancelled = changed and was_active
    if wants_json:
        body = {"status": "unsubscribed" if cancelled else "already_unsubscribed"}
        if marketing:
            body["marketing"] = "unsubscribed"
        return JsonResponse(body)
    return _page(request, "done" if cancelled else "already", token=token,
                 marketing_done=marketing, **_context(subscription))


@csrf_exempt
def unsubscribe(request: HttpRequest) -> HttpResponse:
    """GET: confirmation page; POST: unsubscribe (idempotent); 404 page for unknown tokens."""
    if request.method in ("GET", "HEAD"):
        return _get(request)
    if request.method == "POST":
        return _post(request)
    response = HttpResponse("Method not allowed.", status=405, content_type="text/plain")
    response["Allow"] = "GET, HEAD, POST"
    return response
