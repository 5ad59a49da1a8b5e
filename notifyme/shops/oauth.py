"""The authorization-code grant, for a non-embedded install link (shopify-platform.md §2).

Embedded loads install by token exchange (`notifyme.shops.install`); this path is for a
merchant who follows an install link outside the admin (an App Store listing, a partner link):

- `GET /auth/install?shop&timestamp&hmac[&host&embedded...]`: the shop must be exactly
  `<name>.myshopify.com` (anchored: `evil.myshopify.com.attacker.io` is refused), the query
  signed by Shopify (`oauth_query_verify`: hex HMAC over every parameter but `hmac`, fresh
  timestamp, no duplicated keys). Then a 302 to Shopify's authorize page with a random nonce
  `state` (offline access: no `grant_options[]=per-user`; `scope` = `REQUIRED_SCOPES`, the same
  as shopify.app.toml), kept in a signed, HttpOnly, SameSite=Lax cookie scoped to /auth/ and
  bound to the shop, alive `STATE_MAX_AGE` seconds.
- `GET /auth/callback?code&hmac&host&shop&state&timestamp`: shop, hmac and timestamp as above,
  `state` equal to the cookie's nonce for that shop; the cookie is deleted by the response
  whatever the outcome, so a state is good once. Then `shop_install_from_code` (code exchange
  with `expiring=1`, install, tokens, shop info, initial catalog sync) and a 302 into the
  embedded app: `https://{base64-decode(host)}/apps/{SHOPIFY_API_KEY}`, where the decoded host
  must be `admin.shopify.com/store/<name>` or `<name>.myshopify.com/admin` for that shop (else
  400 naming `host`: an open redirect is refused).

Every bad input is a JSON 4xx naming the field (`shop`, `hmac`, `timestamp`, `state`, `code`,
`host`); Shopify down is a 503 — never a 500.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from integrations.shopify.conf import admin_base
from integrations.shopify.errors import InvalidSignature, ShopifyError, ShopifyUnavailable
from integrations.shopify.scopes import REQUIRED_SCOPES
from integrations.shopify.signatures import oauth_query_verify
from notifyme.core.http import InputError, json_error
from notifyme.shops.auth import shopify_error
from notifyme.shops.install import shop_install_from_code
from notifyme.shops.models import normalize_shop_domain

STATE_COOKIE = "notifyme_oauth_state"
STATE_SALT = "notifyme.shops.oauth.state"
STATE_MAX_AGE = 600
COOKIE_PATH = "/auth/"
_HOST_VALUE = re.compile(r"[0-9A-Za-z+/]+={0,2}")
_ADMIN_HOST = re.compile(r"admin\.shopify\.com/store/([a-z0-9][a-z0-9-]*)")
_LEGACY_HOST = re.compile(r"([a-z0-9][a-z0-9-]*\.myshopify\.com)/admin")


def _fail(field: str, message: str, *, status: int = 400, code: str = "invalid_request"
          ) -> HttpResponse:
    return json_error(status, code, message, {field: [message]})


def _shop(request: HttpRequest) -> str:
    values = request.GET.getlist("shop")
    if len(values) != 1:
        raise InputError.for_field("shop", "Give exactly one shop, like example.myshopify.com.")
    try:
        return normalize_shop_domain(values[0])
    except ValidationError:
        raise InputError.for_field("shop", "Enter a shop domain like example.myshopify.com."
                                   ) from None


def _verify(request: HttpRequest) -> str:
    """The signed query's shop, or InputError naming what is wrong (shop first)."""
    shop = _shop(request)
    try:
        oauth_query_verify(request.GET)
    except InvalidSignature as error:
        reason = str(getattr(error, "reason", error))
        field = "timestamp" if "timestamp" in reason else "hmac"
        raise InputError(401 if field == "hmac" else 400, "invalid_signature",
                         f"The request is not signed by Shopify ({reason}).",
                         {field: [f"Not accepted: {reason}."]}) from None
    return shop


def _callback_url(request: HttpRequest) -> str:
    base = settings.SHOPIFY_APP_URL
    target = reverse("shops_oauth:callback")
    return base + target if base else request.build_absolute_uri(target)


@require_GET
def install(request: HttpRequest) -> HttpResponse:
    """GET /auth/install: verify Shopify's signed link, then send the merchant to authorize."""
    try:
        shop = _verify(request)
    except InputError as error:
        return error.response()
    nonce = secrets.token_urlsafe(32)
    query = urlencode({"client_id": settings.SHOPIFY_API_KEY, "scope": ",".join(REQUIRED_SCOPES),
                       "redirect_uri": _callback_url(request), "state": nonce})
    response = HttpResponseRedirect(f"{admin_base(shop)}/admin/oauth/authorize?{query}")
    response.set_signed_cookie(
        STATE_COOKIE, f"{shop}|{nonce}", salt=STATE_SALT, max_age=STATE_MAX_AGE,
        path=COOKIE_PATH, httponly=True, samesite="Lax", secure=request.is_secure())
    response["Cache-Control"] = "no-store"
    return response


def _state_check(request: HttpRequest, shop: str) -> None:
    state = request.GET.get("state", "")
    if not state:
        raise InputError.for_field("state", "The state parameter is missing.")
    try:
        stored = request.get_signed_cookie(STATE_COOKIE, salt=STATE_SALT,
                                           max_age=STATE_MAX_AGE)
    except (KeyError, signing.BadSignature):
        raise InputError.for_field("state", "This install link expired or was already used; "
                                   "start the install again.") from None
    expected_shop, _, nonce = str(stored or "").partition("|")
    if expected_shop != shop or not secrets.compare_digest(nonce, state):
        raise InputError.for_field("state", "The state does not match this install.")


def embedded_app_url(*, host: str, shop: str) -> str:
    """`https://{decoded host}/apps/{api key}`, only for an admin host of `shop`."""
    message = "The host parameter is not this shop's Shopify admin."
    if not _HOST_VALUE.fullmatch(host or ""):
        raise InputError.for_field("host", message)
    try:
        decoded = base64.b64decode(host + "=" * (-len(host) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InputError.for_field("host", message) from None
    decoded = decoded.rstrip("/")
    admin, legacy = _ADMIN_HOST.fullmatch(decoded), _LEGACY_HOST.fullmatch(decoded)
    name = shop.removesuffix(".myshopify.com")
    if not ((admin and admin.group(1) == name) or (legacy and legacy.group(1) == shop)):
        raise InputError.for_field("host", message)
    return f"https://{decoded}/apps/{settings.SHOPIFY_API_KEY}"


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """GET /auth/callback: Shopify's redirect after the merchant approved; install."""
    response = _callback(request)
    response.delete_cookie(STATE_COOKIE, path=COOKIE_PATH, samesite="Lax")
    response["Cache-Control"] = "no-store"
    return response


def _callback(request: HttpRequest) -> HttpResponse:
    try:
        shop = _verify(request)
        _state_check(request, shop)
        code = request.GET.get("code", "")
        if not code or len(code) > 255:
            raise InputError.for_field("code", "The authorization code is missing.")
        target = embedded_app_url(host=request.GET.get("host", ""), shop=shop)
    except InputError as error:
        return error.response()
    try:
        shop_install_from_code(code=code, shop_domain=shop)
    except ShopifyUnavailable as error:
        status, error_code, message = shopify_error(error)
        return _fail("code", message, status=status, code=error_code)
    except ShopifyError:
        return _fail("code", "Shopify refused the authorization code; start the install "
                     "again from your Shopify admin.", code="code_refused")
    return HttpResponseRedirect(target)


app_name = "shops_oauth"
urlpatterns = [
    path("install", install, name="install"),
    path("callback", callback, name="callback"),
]
