"""A local stand-in for Shopify's app proxy, for the demo storefront.

On a real store the shopper's browser calls `https://<shop>/apps/notifyme/<path>`; Shopify adds
`shop`, `path_prefix`, `timestamp`, `logged_in_customer_id` and `signature` to the query, sets
`X-Forwarded-For`, strips cookies and forwards method and body to our `/proxy/<path>`. This view
does the same for `/dev/apps/notifyme/<path>`, over real HTTP to this very server, so the real
signature check, rate limits and validation all run.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from notifyme.dev.demo import DEMO_SHOP_DOMAIN
from notifyme.shops.signing import app_proxy_signature

PATH_PREFIX = "/apps/notifyme"
# Parameters only Shopify may set: a shopper's own values are dropped, never signed.
RESERVED_PARAMS = frozenset({"shop", "path_prefix", "timestamp", "logged_in_customer_id",
                             "signature", "hmac"})
# Headers Shopify relays from our response (it strips cookies and hop-by-hop headers).
RELAYED_HEADERS = ("Content-Type", "Retry-After", "Cache-Control", "Location")
FORWARD_TIMEOUT_SECONDS = 10


def signed_query(
    shopper_params: list[tuple[str, str]],
    *,
    shop: str,
    secret: str,
    path_prefix: str = PATH_PREFIX,
    customer_id: str = "",
    timestamp: int | None = None,
) -> str:
    """The query string Shopify sends on: the shopper's params plus its own, signed.

    Signature: hex HMAC-SHA256 (secret) over the sorted `key=value` pairs, repeated keys joined
    with ",", no separator (`notifyme.shops.signing.app_proxy_signature`).
    """
    params: dict[str, list[str]] = {}
    for key, value in shopper_params:
        if key not in RESERVED_PARAMS:
            params.setdefault(key, []).append(value)
    params["shop"] = [shop]
    params["path_prefix"] = [path_prefix]
    params["timestamp"] = [str(int(time.time()) if timestamp is None else timestamp)]
    params["logged_in_customer_id"] = [customer_id]
    pairs = [(key, value) for key, values in params.items() for value in values]
    pairs.append(("signature", app_proxy_signature(params, secret)))
    return urlencode(pairs)


@csrf_exempt
def app_proxy(request: HttpRequest, subpath: str, locale: str = "") -> HttpResponse:
    """Forward `/dev/[<locale>/]apps/notifyme/<subpath>` to `/proxy/<subpath>` as Shopify would.

    Shopify serves the app proxy under a market's language subfolder too
    (`/fr/apps/notifyme/...`) and forwards it the same way, so `locale` changes nothing here.
    """
    query = signed_query(
        [(key, value) for key, values in request.GET.lists() for value in values],
        shop=DEMO_SHOP_DOMAIN, secret=settings.SHOPIFY_API_SECRET,
    )
    headers = {
        "X-Forwarded-For": request.META.get("REMOTE_ADDR", ""),
        "X-Forwarded-Host": request.get_host(),
        "Accept": request.headers.get("Accept", "*/*"),
        "User-Agent": request.headers.get("User-Agent", "notifyme-dev-proxy"),
    }
    if "Content-Type" in request.headers:
        headers["Content-Type"] = request.headers["Content-Type"]
    try:
        body = request.body
    except RequestDataTooBig:
        # Shopify forwards any body; refusing big ones (413) is the app's job, so read it raw.
        body = request.read()
    url = request.build_absolute_uri(f"/proxy/{subpath}") + "?" + query
    try:
        upstream = requests.request(
            request.method or "GET", url, data=body, headers=headers,
            timeout=FORWARD_TIMEOUT_SECONDS, allow_redirects=True,
        )
    except requests.RequestException as exc:
        return HttpResponse(
            f"App proxy stand-in could not reach the app: {exc.__class__.__name__}",
            status=502, content_type="text/plain",
        )
    response = HttpResponse(upstream.content, status=upstream.status_code)
    for name in RELAYED_HEADERS:
        if name in upstream.headers:
            response[name] = upstream.headers[name]
    return response
