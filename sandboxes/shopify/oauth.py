"""Shopify's OAuth endpoints for one shop: `access_token` (three grants) and `authorize`.

Contract (what a real shop answers, as far as the app can tell):
- `POST /{shop}/admin/oauth/access_token`, form or JSON. Client authentication first:
  client_id/client_secret not the app's → 401 `invalid_client`.
  * token exchange (`grant_type=urn:ietf:params:oauth:grant-type:token-exchange`,
    `subject_token_type=urn:ietf:params:oauth:token-type:id_token`): the ID token must be HS256
    with the app secret, `aud` = api key, `exp`/`nbf` within 10 s leeway, `dest` host = the
    shop (and `iss` host, when present); else 400 `invalid_subject_token`.
  * authorization code (no grant_type, or `authorization_code`): a code from `authorize`,
    single use, 10 minutes, same shop; else 400 `invalid_request`.
  * `refresh_token`: rotation rules in tokens.py; refused → 400 `invalid_grant`.
  `expiring=1` → access + refresh pair with lifetimes; otherwise a non-expiring token.
- `GET /{shop}/admin/oauth/authorize?client_id&scope&redirect_uri&state`: the merchant approves
  at once; 302 to redirect_uri with code, hmac (hex HMAC-SHA256 of the sorted `k=v` pairs joined
  by `&`), host (base64 of admin.shopify.com/store/<name>, no padding), shop, state, timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import jwt

from .tokens import Grant, RefreshRefused
from .web import HTML, HttpError, Request, Response, redirect

if TYPE_CHECKING:
    from .app import StandinApp

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105
OFFLINE = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE = "urn:shopify:params:oauth:token-type:online-access-token"
LEEWAY = 10


def _error(status: int, error: str, description: str) -> HttpError:
    return HttpError(status, {"error": error, "error_description": description})


def query_hmac(pairs: list[tuple[str, str]], secret: str) -> str:
    """§2 of the platform notes: sorted `k=v` (hmac excluded) joined by `&`, hex HMAC-SHA256."""
    message = "&".join(sorted(f"{k}={v}" for k, v in pairs if k != "hmac"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def admin_host(shop: str) -> str:
    name = shop.split(".")[0]
    return base64.b64encode(f"admin.shopify.com/store/{name}".encode()).decode().rstrip("=")


def id_token_mint(app: StandinApp, shop: str, options: dict[str, Any]) -> str:
    """An App Bridge ID token; `options` may bend it for negative tests: exp_in, nbf_in, aud,
    secret, dest, iss, sub, alg ("none" is refused by PyJWT; use a wrong secret instead)."""
    at = int(time.time())
    dest = str(options.get("dest") or f"https://{shop}")
    claims = {"iss": options.get("iss", f"{dest}/admin"), "dest": dest,
              "aud": options.get("aud", app.config.api_key), "sub": str(options.get("sub", "1")),
              "exp": at + int(options.get("exp_in", 60)),
              "nbf": at + int(options.get("nbf_in", -1)), "iat": at - 1,
              "jti": uuid.uuid4().hex, "sid": uuid.uuid4().hex}
    if claims["iss"] is None:
        del claims["iss"]
    return jwt.encode(claims, str(options.get("secret") or app.config.api_secret),
                      algorithm="HS256")


def _id_token_check(app: StandinApp, shop: str, token: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token, app.config.api_secret, algorithms=["HS256"], audience=app.config.api_key,
            leeway=LEEWAY, options={"require": ["exp", "nbf", "dest", "aud"]})
    except jwt.PyJWTError as exc:
        raise _error(400, "invalid_subject_token", f"subject token is invalid: {exc}") from None
    dest = urlsplit(str(claims.get("dest"))).hostname
    if dest != shop:
        raise _error(400, "invalid_subject_token", "subject token is for another shop")
    if "iss" in claims and urlsplit(str(claims["iss"])).hostname != dest:
        raise _error(400, "invalid_subject_token", "subject token iss and dest differ")
    return claims


def access_token(app: StandinApp, shop: str, req: Request) -> Response:
    world_shop = app.world.shop(shop)
    params = req.form_or_json()
    config = app.config
    if str(params.get("client_id", "")) != config.api_key or not hmac.compare_digest(
            str(params.get("client_secret", "")).encode(), config.api_secret.encode()):
        raise _error(401, "invalid_client", "Client authentication failed: unknown client or "
                                            "wrong client secret.")
    grant_type = str(params.get("grant_type") or "authorization_code")
    expiring = str(params.get("expiring", "0")) in ("1", "true", "True")
    ttl = {"access_ttl": config.access_ttl, "refresh_ttl": config.refresh_ttl}
    if grant_type == TOKEN_EXCHANGE:
        grant = _token_exchange(app, shop, params, expiring)
    elif grant_type == "authorization_code":
        record = app.codes.take(shop, str(params.get("code", "")))
        if record is None:
            raise _error(400, "invalid_request", "The authorization code was not found or was "
                                                 "already used.")
        grant = app.tokens.issue(shop, record.scopes, expiring=expiring, kind="code_grants",
                                 **ttl)
    elif grant_type == "refresh_token":
        try:
            grant = app.tokens.rotate(shop, str(params.get("refresh_token", "")), **ttl)
        except RefreshRefused as exc:
            raise _error(400, "invalid_grant", str(exc)) from None
    else:
        raise _error(400, "unsupported_grant_type", f"grant_type {grant_type[:80]!r}")
    world_shop.installed = True
    return Response(200, grant.body())


def _token_exchange(app: StandinApp, shop: str, params: dict[str, Any], expiring: bool
                    ) -> Grant:
    if params.get("subject_token_type") != ID_TOKEN_TYPE:
        raise _error(400, "invalid_request", "subject_token_type must be "
                                             f"{ID_TOKEN_TYPE}")
    requested = params.get("requested_token_type") or OFFLINE
    if requested not in (OFFLINE, ONLINE):
        raise _error(400, "invalid_request", "requested_token_type is not supported")
    claims = _id_token_check(app, shop, str(params.get("subject_token", "")))
    config = app.config
    if requested == ONLINE:
        grant = app.tokens.issue(shop, config.scopes, expiring=True, access_ttl=86399,
                                 refresh_ttl=0, kind="token_exchanges")
        grant.refresh_token = grant.refresh_token_expires_in = None
        return grant
    del claims
    return app.tokens.issue(shop, config.scopes, expiring=expiring, kind="token_exchanges",
                            access_ttl=config.access_ttl, refresh_ttl=config.refresh_ttl)


def authorize(app: StandinApp, shop: str, req: Request) -> Response:
    app.world.shop(shop)
    config = app.config
    if req.arg("client_id") != config.api_key:
        return Response(400, "<h1>Oauth error invalid_request: The client_id is invalid</h1>",
                        content_type=HTML)
    redirect_uri = req.arg("redirect_uri") or ""
    if not redirect_uri.startswith(config.app_url + "/"):
        return Response(400, "<h1>Oauth error invalid_request: The redirect_uri is not "
                             "whitelisted</h1>", content_type=HTML)
    scopes = req.arg("scope") or config.scopes
    pairs = [("code", app.codes.new(shop, scopes)), ("host", admin_host(shop)),
             ("shop", shop), ("timestamp", str(int(time.time())))]
    state = req.arg("state")
    if state is not None:
        pairs.append(("state", state))
    pairs.append(("hmac", query_hmac(pairs, config.api_secret)))
    glue = "&" if "?" in redirect_uri else "?"
    return redirect(redirect_uri + glue + urlencode(pairs))
