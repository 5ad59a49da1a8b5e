"""Embedded-app authentication: Shopify App Bridge ID tokens (shopify-platform.md §3).

`id_token_claims` is the one place a token is trusted. It accepts only HS256 tokens signed
with `SHOPIFY_API_SECRET` (or `SHOPIFY_API_SECRET_OLD` during a secret rotation), audience
`SHOPIFY_API_KEY`, 10 s leeway, with `exp`, `nbf`, `iss`, `dest` and `aud` required,
hostname(iss) == hostname(dest), and that host a valid `*.myshopify.com` domain. The shop comes
from the token's `dest` only, never from the URL, so a token for shop A can never read or change
shop B. `id_token_session` (both decorators) then finds the shop, or installs it: a shop that is
unknown, uninstalled or without a usable token (no refresh token, expired, or `needs_reauth`)
gets a token exchange first (`notifyme.shops.install`, Shopify-managed installation). The
document and the JSON API both do it, so whichever request comes first after an install (or
after the token was revoked while the page stayed open) installs, under one lock per shop.
Shopify refusing the ID token (`invalid_subject_token`) is an invalid session: the bounce page
(document) or 401 + retry header (API). Shopify down: a 503 page or JSON error, never a 500.

Why PyJWT and not Shopify's `shopifyapp` 1.0.2: its `verify_app_home_req` decodes with PyJWT too
but does not require `exp`/`nbf`/`iss`/`dest`, does not compare iss with dest, does not validate
the shop domain, and pulls in httpx; we would have to decode the token a second time to add those
checks. We mirror its response contract exactly instead (302 to the bounce page with
`shopify-reload`, 401 + `X-Shopify-Retry-Invalid-Session-Request: 1`, the frame-ancestors CSP).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, cast
from urllib.parse import quote, urlencode, urlparse

import jwt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.debug import SafeExceptionReporterFilter
from django.views.decorators.clickjacking import xframe_options_exempt

from integrations.shopify.errors import InvalidSubjectToken, ShopifyError, ShopifyUnavailable
from notifyme.core import logcontext
from notifyme.core.http import json_error
from notifyme.shops.install import shop_install_from_id_token, shop_token_usable
from notifyme.shops.models import Shop, normalize_shop_domain

LEEWAY_SECONDS = 10
REQUIRED_CLAIMS = ["exp", "nbf", "iss", "dest", "aud"]
RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request"

P = ParamSpec("P")


class InvalidIdToken(Exception):
    """The token cannot be trusted; `reason` is a short machine code (never the token)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid ID token: {reason}")


@dataclass(frozen=True)
class EmbeddedSession:
    shop: Shop
    user_id: str
    session_id: str


class EmbeddedRequest(HttpRequest):
    """A request `embedded_document` / `embedded_api` authenticated: views annotate their
    argument with this type, and the shop is the ID token's, never the URL's."""

    shop: Shop
    shopify_user_id: str
    exception_reporter_filter: SafeExceptionReporterFilter


EmbeddedView = Callable[Concatenate[EmbeddedRequest, P], HttpResponse]
PlainView = Callable[Concatenate[HttpRequest, P], HttpResponse]


def _secrets() -> list[str]:
    return [s for s in (settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_OLD) if s]


def _decode(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidIdToken("malformed") from None
    if header.get("alg") != "HS256":
        raise InvalidIdToken("algorithm")
    last: jwt.PyJWTError | None = None
    for secret in _secrets():
        try:
            return dict(jwt.decode(
                token, secret, algorithms=["HS256"], audience=settings.SHOPIFY_API_KEY,
                leeway=LEEWAY_SECONDS, options={"require": REQUIRED_CLAIMS},
            ))
        except jwt.InvalidSignatureError as exc:
            last = exc  # maybe signed with the other secret
        except jwt.ExpiredSignatureError:
            raise InvalidIdToken("expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidIdToken("not_yet_valid") from None
        except jwt.InvalidAudienceError:
            raise InvalidIdToken("audience") from None
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidIdToken(f"missing_{exc.claim}") from None
        except jwt.PyJWTError:
            raise InvalidIdToken("malformed") from None
    raise InvalidIdToken("signature" if last else "no_secret")


def _host(url: object) -> str:
    if not isinstance(url, str):
        return ""
    parsed = urlparse(url)
    return (parsed.hostname or "") if parsed.scheme == "https" else ""


@dataclass(frozen=True)
class VerifiedIdToken:
    """An ID token that passed every check; the shop domain is the token's `dest`."""

    shop_domain: str
    user_id: str
    session_id: str


def id_token_claims(token: str, *, expected_shop: str | None = None) -> VerifiedIdToken:
    """Verify an App Bridge ID token (signature, lifetime, audience, iss == dest, the shop
    domain); raise InvalidIdToken. Says nothing about whether the shop is installed.

    `expected_shop` (e.g. the document's `shop` query parameter) must match the token's shop.
    """
    if not token or not isinstance(token, str):
        raise InvalidIdToken("missing")
    claims = _decode(token)
    iss_host, dest_host = _host(claims.get("iss")), _host(claims.get("dest"))
    if not dest_host or iss_host != dest_host:
        raise InvalidIdToken("iss_dest_mismatch")
    try:
        domain = normalize_shop_domain(dest_host)
    except ValidationError:
        raise InvalidIdToken("shop_domain") from None
    if expected_shop is not None and expected_shop.strip().lower() != domain:
        raise InvalidIdToken("shop_mismatch")
    logcontext.bind_shop(domain)  # verified: every later log line of this request names it
    return VerifiedIdToken(shop_domain=domain, user_id=str(claims.get("sub") or ""),
                           session_id=str(claims.get("sid") or ""))


def id_token_verify(token: str, *, expected_shop: str | None = None) -> EmbeddedSession:
    """Verify an App Bridge ID token and return its installed shop; raise InvalidIdToken
    (`unknown_shop` when the app is not installed there: no install happens here)."""
    verified = id_token_claims(token, expected_shop=expected_shop)
    shop = Shop.objects.installed().filter(domain=verified.shop_domain).first()
    if shop is None:
        raise InvalidIdToken("unknown_shop")
    return EmbeddedSession(shop=shop, user_id=verified.user_id, session_id=verified.session_id)


def id_token_session(token: str, *, expected_shop: str | None = None) -> EmbeddedSession:
    """Verify the ID token, then the shop with a usable token: the stored one, or installed
    now by token exchange (`install.shop_install_from_id_token`, the Shopify-managed install).
    Raises InvalidIdToken, and from the exchange `InvalidSubjectToken` (Shopify refused the
    token: treat as an invalid session), `ShopifyUnavailable` or another `ShopifyError`."""
    verified = id_token_claims(token, expected_shop=expected_shop)
    shop = Shop.objects.filter(domain=verified.shop_domain).first()
    if shop is None or not shop_token_usable(shop):
        shop = shop_install_from_id_token(id_token=token, shop_domain=verified.shop_domain)
    return EmbeddedSession(shop=shop, user_id=verified.user_id, session_id=verified.session_id)


def frame_ancestors(shop_domain: str) -> str:
    """The CSP for an embedded response (plus 'self' for the local admin stand-in in dev)."""
    sources = [f"https://{shop_domain}", "https://admin.shopify.com"]
    if settings.NOTIFYME_DEV_TOOLS:
        sources.append("'self'")
    return f"frame-ancestors {' '.join(sources)};"


class SecretSafeReporterFilter(SafeExceptionReporterFilter):
    """Error pages/reports for embedded views hide every local and POST value, even with DEBUG,
    so a pasted Klaviyo key can never reach Django's debug page or an error e-mail."""

    def is_active(self, request: HttpRequest | None) -> bool:
        return True

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        if request is None:
            return {}
        return {name: self.cleansed_substitute for name in request.POST}

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]


def _protect(request: HttpRequest) -> EmbeddedRequest:
    """The same request object, typed as what it becomes once `_attach` has run."""
    embedded = cast(EmbeddedRequest, request)
    embedded.exception_reporter_filter = SecretSafeReporterFilter()
    return embedded


def _serve(request: EmbeddedRequest, session: EmbeddedSession, view: Callable[..., HttpResponse],
           *args: Any, **kwargs: Any) -> HttpResponse:
    """Run `view` for the verified session: the request carries the shop and user, and the
    response may only be framed by that shop's admin and is never cached."""
    request.shop = session.shop
    request.shopify_user_id = session.user_id
    response = view(request, *args, **kwargs)
    response["Content-Security-Policy"] = frame_ancestors(session.shop.domain)
    response["Cache-Control"] = "no-store"
    return response


def bounce_url(request: HttpRequest) -> str:
    """The bounce page URL for a document load: query minus id_token, plus shopify-reload."""
    pairs = [(k, v) for k, values in request.GET.lists() for v in values if k != "id_token"]
    clean = urlencode(pairs)
    reload_target = request.path + ("?" + clean if clean else "")
    query = (clean + "&" if clean else "") + "shopify-reload=" + quote(reload_target, safe="")
    return reverse("dashboard:bounce") + "?" + query


SHOPIFY_DOWN = "Shopify is not answering right now. Reload the page in a minute."
SHOPIFY_REFUSED = ("Shopify did not let the app finish installing. Reload the page; if it "
                   "keeps happening, reinstall the app from your Shopify admin.")


def shopify_error(error: ShopifyError) -> tuple[int, str, str]:
    """(status, code, sentence) for a Shopify failure during an install: Shopify's 5xx or
    timeout is a 503 (try again soon), anything else a 502 — never our 500."""
    if isinstance(error, ShopifyUnavailable):
        return 503, "shopify_unavailable", SHOPIFY_DOWN
    return 502, "shopify_refused", SHOPIFY_REFUSED


def shopify_error_page(request: HttpRequest, error: ShopifyError) -> HttpResponse:
    status, code, message = shopify_error(error)
    response = render(request, "dashboard/shopify_error.html",
                      {"message": message, "code": code}, status=status)
    response["Cache-Control"] = "no-store"
    if status == 503:
        response["Retry-After"] = "60"
    return response


def embedded_document(view: EmbeddedView[P]) -> PlainView[P]:
    """GET /app/: `id_token` query parameter; invalid or missing → 302 to the bounce page."""

    @functools.wraps(view)
    @xframe_options_exempt
    def wrapper(plain: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        request = _protect(plain)
        try:
            session = id_token_session(
                request.GET.get("id_token", ""), expected_shop=request.GET.get("shop")
            )
        except (InvalidIdToken, InvalidSubjectToken):
            return HttpResponseRedirect(bounce_url(request))
        except ShopifyError as error:
            return shopify_error_page(request, error)
        return _serve(request, session, view, *args, **kwargs)

    return wrapper


def embedded_api(view: EmbeddedView[P]) -> PlainView[P]:
    """/app/api/*: `Authorization: Bearer <ID token>`; invalid → 401 + the retry header."""

    @functools.wraps(view)
    @xframe_options_exempt
    def wrapper(plain: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        request = _protect(plain)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            if scheme != "Bearer":
                raise InvalidIdToken("missing")
            session = id_token_session(token.strip(), expected_shop=request.GET.get("shop"))
        except (InvalidIdToken, InvalidSubjectToken) as exc:
            reason = exc.reason if isinstance(exc, InvalidIdToken) else "invalid_subject_token"
            refusal = json_error(401, "invalid_session", "Your session expired. Reload the page.",
                                 reason=reason)
            refusal[RETRY_HEADER] = "1"
            return refusal
        except ShopifyError as error:
            status, code, message = shopify_error(error)
            return json_error(status, code, message)
        return _serve(request, session, view, *args, **kwargs)

    return wrapper
