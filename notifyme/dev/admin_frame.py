"""Development only: a stand-in for the Shopify admin frame (mounted when NOTIFYME_DEV_TOOLS).

`/dev/admin/` draws a minimal admin chrome and embeds `/app/` in an iframe exactly as Shopify
does (`id_token`, `shop`, `host`, `embedded=1`), and `/dev/admin/token` mints fresh, real HS256 ID
tokens signed with `SHOPIFY_API_SECRET`, which the frame relays to the app by postMessage when the
page asks (the job App Bridge's `shopify.idToken()` does in production). The app's auth code is
therefore the production code; only the token's issuer is local.
"""

from __future__ import annotations

import base64
import time
import uuid
from urllib.parse import urlencode

import jwt
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from notifyme.dev.demo import DEMO_SHOP_DOMAIN
from notifyme.shops.models import Shop

TOKEN_LIFETIME_SECONDS = 60
DEV_USER_ID = "1"


def id_token_mint(*, shop_domain: str, user_id: str = DEV_USER_ID) -> str:
    """A real App Bridge ID token for `shop_domain`, valid for one minute (as Shopify's are)."""
    now = int(time.time())
    claims = {
        "iss": f"https://{shop_domain}/admin", "dest": f"https://{shop_domain}",
        "aud": settings.SHOPIFY_API_KEY, "sub": user_id, "exp": now + TOKEN_LIFETIME_SECONDS,
        "nbf": now, "iat": now, "jti": uuid.uuid4().hex, "sid": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.SHOPIFY_API_SECRET, algorithm="HS256")


def _shop(request: HttpRequest) -> Shop | None:
    domain = request.GET.get("shop", DEMO_SHOP_DOMAIN).strip().lower()
    return Shop.objects.installed().filter(domain=domain).first()


def _guard() -> None:
    if not settings.NOTIFYME_DEV_TOOLS:  # belt and braces: the URLs are not mounted either
        raise Http404


@require_GET
def admin_frame(request: HttpRequest) -> HttpResponse:
    """The admin chrome with the app embedded for the demo shop (or `?shop=`)."""
    _guard()
    shop = _shop(request)
    if shop is None:
        return render(request, "dev/admin_frame_missing.html",
                      {"domain": request.GET.get("shop", DEMO_SHOP_DOMAIN)}, status=404)
    host = base64.urlsafe_b64encode(
        f"admin.shopify.com/store/{shop.domain.removesuffix('.myshopify.com')}".encode()
    ).decode().rstrip("=")
    query = urlencode({
        "embedded": "1", "host": host, "id_token": id_token_mint(shop_domain=shop.domain),
        "shop": shop.domain, "dev_frame": "1",
    })
    return render(request, "dev/admin_frame.html", {
        "shop": shop, "app_url": f"/app/?{query}",
        "token_url": f"/dev/admin/token?{urlencode({'shop': shop.domain})}",
    })


@require_GET
def token(request: HttpRequest) -> JsonResponse:
    """A fresh ID token for the frame to hand to the app."""
    _guard()
    shop = _shop(request)
    if shop is None:
        return JsonResponse({"error": {"code": "unknown_shop",
                                       "message": "Run `python manage.py demo` first."}},
                            status=404)
    response = JsonResponse({"token": id_token_mint(shop_domain=shop.domain)})
    response["Cache-Control"] = "no-store"
    return response
