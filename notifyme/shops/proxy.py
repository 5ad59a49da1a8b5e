"""Shopify app proxy verification: who sent this storefront request, and is it fresh?

Shopify's app proxy forwards `https://<shop>/<prefix>/<subpath>/...` to us and appends `shop`,
`path_prefix`, `timestamp`, `logged_in_customer_id` and `signature` to the query. The signature
covers the query only (never the body); it proves the request passed through Shopify for that
shop. So the shop comes from the signed `shop` parameter and nowhere else, and a signed query
older (or newer) than `SHOPIFY_PROXY_MAX_AGE_SECONDS` is refused as a replay.

The signed text is the sorted `key=value` pairs with no separator, so the same signature also
fits other splits of that text into parameters (a value could swallow `shop=...` or
`logged_in_customer_id=...`). Three rules let at most one reading pass: only the parameters in
`ALLOWED_PARAMS`, each at most once, and no `=` in any value. Then every `=` in the text ends a
key, so all readings cut the text at the same places; between two cuts stand a value and the
next key, and since no allowed name ends with another (tests check it), that key, and so the
value before it, is fixed. Anything else is refused with a 400 naming the parameter, before the
signature is even checked.

The cancel link (`/proxy/unsubscribe`, `allow_tracking=True`) also takes `TRACKING_PARAMS`,
which email tools append to every link (merchants' UTM settings, Klaviyo's click tracking
`_kx`); the app never reads them. They join the allowed names above, and still none ends with
another. Their values are written by whoever built the link, and `_kx` may hold `=` (base64
padding): such a value, or a repeated tracking parameter, leaves the signed text with several
readings, so `app_proxy_verify` raises `UnreadableProxyQuery` and the cancel view reads the
request as the direct, unsigned link, by its token alone (its authority anyway; there the
signature only narrows the lookup to the signed shop), trusting no other query parameter.
`POST /proxy/subscribe` keeps the strict set: nothing links to it from an email.

Use `app_proxy_required` on JSON views taking a `ProxiedRequest`; it sets `request.app_proxy`.
Views that must also work unsigned or answer in HTML call `app_proxy_verify` directly.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qs

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from notifyme.core import logcontext
from notifyme.core.http import json_error
from notifyme.shops.models import Shop, normalize_shop_domain
from notifyme.shops.signing import app_proxy_signature, signature_matches

# What Shopify's app proxy adds to every request.
SHOPIFY_PARAMS = ("shop", "path_prefix", "timestamp", "logged_in_customer_id", "signature")
# What the app's own links and block put in the query: the cancel link's `token`
# (notifyme/subscriptions/links.py). The storefront block posts with no query of its own.
APP_PARAMS = ("token",)
ALLOWED_PARAMS = frozenset(SHOPIFY_PARAMS + APP_PARAMS)
# What email tools append to links (UTM settings; Klaviyo's click tracking adds `_kx`, which
# identifies the Klaviyo profile). Only the cancel link takes them, and nothing reads them.
TRACKING_PARAMS = frozenset(
    ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "utm_id", "_kx")
)


@dataclass(frozen=True)
class AppProxyRequest:
    """What a verified proxy request tells us: the shop and the (optional) logged-in customer."""

    shop: Shop
    logged_in_customer_id: int | None
    path_prefix: str
    timestamp: int


class ProxiedRequest(HttpRequest):
    """A request `app_proxy_required` verified: `app_proxy` says which shop sent it."""

    app_proxy: AppProxyRequest


@dataclass
class AppProxyError(Exception):
    """Verification failed; `status`/`code`/`message`/`fields` describe the JSON error."""

    status: int
    code: str
    message: str
    fields: dict[str, list[str]] = field(default_factory=dict)

    def as_json(self) -> HttpResponse:
        return json_error(self.status, self.code, self.message, self.fields or None)


class UnreadableProxyQuery(Exception):
    """A tracking parameter repeats or holds `=`: the signed text has more than one reading, so
    nothing in this query can be taken as what Shopify signed (see the module docstring)."""

    def __init__(self, param: str) -> None:
        super().__init__(f"The tracking parameter {param!r} leaves the signed query ambiguous.")
        self.param = param


def _invalid_signature(message: str) -> AppProxyError:
    return AppProxyError(401, "invalid_signature", message)


def _unexpected_parameter(key: str) -> AppProxyError:
    return AppProxyError(
        400, "unexpected_parameter", f"The parameter {key[:40]!r} is not accepted.",
        {key[:40]: ["Remove this parameter from the URL."]},
    )


def _params_check(params: dict[str, list[str]], *, allow_tracking: bool) -> None:
    """Refuse any query that could be read as another split of the signed text (see above);
    raise `UnreadableProxyQuery` when only an (allowed) tracking parameter spoils the reading."""
    allowed = ALLOWED_PARAMS | TRACKING_PARAMS if allow_tracking else ALLOWED_PARAMS
    for key in sorted(params):
        if key not in allowed:
            raise _unexpected_parameter(key)
    for key in sorted(TRACKING_PARAMS.intersection(params)):
        if len(params[key]) > 1 or "=" in params[key][0]:
            raise UnreadableProxyQuery(key)
    for key in sorted(params):
        if len(params[key]) > 1:
            raise _invalid_signature(f"The signed parameter {key!r} appears more than once.")
        if "=" in params[key][0]:
            raise AppProxyError(
                400, "invalid_parameter", f"The parameter {key!r} may not contain '='.",
                {key: ["This value may not contain '='."]},
            )


def accepted_secrets() -> list[str]:
    """The current client secret and, during a rotation, the previous one."""
    return [s for s in (settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_OLD) if s]


def proxy_params(query_string: str) -> dict[str, list[str]]:
    """Decoded query parameters as Shopify signs them (blank values kept, repeats in order)."""
    return parse_qs(query_string, keep_blank_values=True)


def proxy_signature_valid(params: dict[str, list[str]], *, secrets: list[str]) -> bool:
    """True when `params["signature"]` is the app proxy signature under any of `secrets`."""
    given = params.get("signature") or [""]
    if len(given) != 1 or not given[0] or not given[0].isascii():
        return False  # compare_digest refuses non-ASCII str; such a value never matches anyway
    expected = [app_proxy_signature(params, secret) for secret in secrets]
    return signature_matches(given[0].lower(), expected)


def is_proxy_signed(request: HttpRequest) -> bool:
    """Does the request claim to come through the app proxy (carry a `signature`)?"""
    return "signature" in proxy_params(request.META.get("QUERY_STRING", ""))


def _is_small_number(value: str) -> bool:
    """ASCII digits that fit a BigIntegerField (int() of huge strings raises, keep it out)."""
    return value.isascii() and value.isdigit() and len(value) <= 18


def app_proxy_verify(
    request: HttpRequest, *, now: float | None = None, allow_tracking: bool = False
) -> AppProxyRequest:
    """Verify the proxy signature, freshness and shop; raise `AppProxyError` when any fails.

    `allow_tracking` also accepts `TRACKING_PARAMS` (only for views whose authority is not the
    signature); then `UnreadableProxyQuery` means "read this request as unsigned".
    Order matters: nothing about shops is revealed to a request whose signature is not valid.
    """
    params = proxy_params(request.META.get("QUERY_STRING", ""))
    if "signature" not in params:
        raise _invalid_signature("This request is missing Shopify's app proxy signature.")
    _params_check(params, allow_tracking=allow_tracking)
    if not proxy_signature_valid(params, secrets=accepted_secrets()):
        raise _invalid_signature("The app proxy signature does not match.")

    raw_timestamp = params.get("timestamp", [""])[0]
    if not _is_small_number(raw_timestamp):
        raise _invalid_signature("The signed request has no valid timestamp.")
    timestamp = int(raw_timestamp)
    current = time.time() if now is None else now
    if abs(current - timestamp) > settings.SHOPIFY_PROXY_MAX_AGE_SECONDS:
        raise _invalid_signature("The signed request is too old (or from the future); reload.")

    try:
        domain = normalize_shop_domain(params.get("shop", [""])[0])
    except ValidationError:
        raise AppProxyError(
            400, "invalid_shop", "The shop domain is not valid.",
            {"shop": ["Enter a shop domain like example.myshopify.com."]},
        ) from None
    logcontext.bind_shop(domain)  # the signature covered it
    try:  # get(), not first(): the domain is unique and an ORDER BY is pure cost here
        shop: Shop | None = Shop.objects.installed().get(domain=domain)
    except Shop.DoesNotExist:
        shop = None
    if shop is None:
        raise AppProxyError(
            404, "unknown_shop", "This shop does not use notifyme.",
            {"shop": ["This shop is not installed."]},
        )

    raw_customer = params.get("logged_in_customer_id", [""])[0]
    customer_id = int(raw_customer) if _is_small_number(raw_customer) else None
    return AppProxyRequest(
        shop=shop,
        logged_in_customer_id=customer_id,
        path_prefix=params.get("path_prefix", [""])[0],
        timestamp=timestamp,
    )


def app_proxy_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator: verify the app proxy request, set `request.app_proxy`, or answer JSON 4xx."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        proxied = cast(ProxiedRequest, request)
        try:
            proxied.app_proxy = app_proxy_verify(request)
        except AppProxyError as error:
            return error.as_json()
        return view(proxied, *args, **kwargs)

    return wrapper
