"""Expiring offline access tokens: obtain, store, refresh (rotating), forget.

Contract
- `token_exchange` (App Bridge ID token → offline token) and `code_exchange` (authorization code
  → offline token) both ask for an **expiring** token (`expiring=1`: 1 h access token, 90-day
  refresh token), form-encoded POST to `conf.token_url`, with timeouts; the grant's scopes must
  cover `scopes.REQUIRED_SCOPES` (`MissingScopes` otherwise, nothing stored). An expired/invalid
  ID token → `InvalidSubjectToken` (the caller bounces for a new one).
- `tokens_store` writes the pair, both expiries, the granted scopes and `auth_state=ok` in one
  locked update.
- `access_token(shop=)` returns a token valid for at least `REFRESH_MARGIN` (5 min), refreshing
  first when needed. `tokens_refresh(shop=, rejected=)` refreshes; `rejected` is the token the
  Admin API just refused with a 401 (then a token equal to it is not reused).
- Rotation is atomic: the refresh runs with the shop row locked (`select_for_update`), after a
  re-read. A worker that waited for the lock finds the winner's token and uses it, so two
  workers refreshing at once send one refresh request and the shop keeps a working pair. If
  Shopify's answer is lost (timeout), nothing was stored; Shopify keeps the previous refresh
  token retryable until the new one is used, so the next attempt retries with it.
- A refused (`invalid_grant`) or expired or missing refresh token marks the shop
  `auth_state=needs_reauth` (+ `auth_state_changed_at`) and raises `ReauthRequired`.
- Tokens are never logged and never in exceptions; logs show `mask_token` at most.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.shopify import conf
from integrations.shopify.errors import (
    MissingScopes,
    ReauthRequired,
    ShopifyUnavailable,
    token_outcome,
)
from integrations.shopify.http import mask_token, scrub, shared_session, timeouts
from integrations.shopify.scopes import missing_scopes, scopes_parse
from notifyme.shops.models import TOKEN_FIELDS, Shop

logger = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(minutes=5)
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a grant type name
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"  # noqa: S105 - a token type name
OFFLINE_TOKEN_TYPE = (
    "urn:shopify:params:oauth:token-type:offline-access-token")  # noqa: S105 - a token type name


@dataclass(frozen=True)
class TokenGrant:
    """What the token endpoint granted (expiries computed from the moment we asked)."""

    access_token: str = field(repr=False)
    access_expires_at: datetime | None
    refresh_token: str = field(repr=False)
    refresh_expires_at: datetime | None
    scopes: frozenset[str]

    def __repr__(self) -> str:
        return (f"TokenGrant(access={mask_token(self.access_token)}, "
                f"refresh={mask_token(self.refresh_token)}, until={self.access_expires_at})")


def _expiry(asked_at: datetime, seconds: Any) -> datetime | None:
    try:
        return asked_at + timedelta(seconds=int(seconds)) if seconds not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _token_request(*, shop_domain: str, form: dict[str, str]) -> TokenGrant:
    """POST the grant; return the TokenGrant or raise the classified error (no secret in it)."""
    body = {"client_id": settings.SHOPIFY_API_KEY,
            "client_secret": settings.SHOPIFY_API_SECRET, **form}
    asked_at = timezone.now()
    try:
        response = shared_session().post(conf.token_url(shop_domain), data=body,
                                         headers={"Accept": "application/json"},
                                         timeout=timeouts())
    except requests.Timeout as exc:
        raise ShopifyUnavailable("token endpoint timed out") from scrub(exc)
    except requests.RequestException as exc:
        raise ShopifyUnavailable("token endpoint unreachable") from scrub(exc)
    try:
        parsed: Any = response.json()
    except ValueError:
        parsed = None
    error = token_outcome(response.status_code, parsed)
    if error is not None:
        raise error
    return TokenGrant(
        access_token=str(parsed["access_token"]),
        access_expires_at=_expiry(asked_at, parsed.get("expires_in")),
        refresh_token=str(parsed.get("refresh_token") or ""),
        refresh_expires_at=_expiry(asked_at, parsed.get("refresh_token_expires_in")),
        scopes=scopes_parse(parsed.get("scope")),
    )


def _checked(grant: TokenGrant) -> TokenGrant:
    missing = missing_scopes(grant.scopes)
    if missing:
        raise MissingScopes(missing)
    return grant


def token_exchange(*, shop_domain: str, id_token: str) -> TokenGrant:
    """Exchange an App Bridge ID token for an expiring offline token (not stored)."""
    return _checked(_token_request(shop_domain=shop_domain, form={
        "grant_type": TOKEN_EXCHANGE,
        "subject_token": id_token,
        "subject_token_type": ID_TOKEN_TYPE,
        "requested_token_type": OFFLINE_TOKEN_TYPE,
        "expiring": "1",
    }))


def code_exchange(*, shop_domain: str, code: str) -> TokenGrant:
    """Exchange an authorization code (install link callback) for an expiring offline token."""
    return _checked(_token_request(shop_domain=shop_domain,
                                   form={"code": code, "expiring": "1"}))


_TOKEN_FIELDS = [*TOKEN_FIELDS, "auth_state", "auth_state_changed_at", "updated_at"]


def _copy_tokens(source: Shop, target: Shop) -> None:
    for name in _TOKEN_FIELDS:
        setattr(target, name, getattr(source, name))


def _set_auth_state(shop: Shop, state: str) -> None:
    if shop.auth_state != state:
        shop.auth_state = state
        shop.auth_state_changed_at = timezone.now()


def _apply_grant(shop: Shop, grant: TokenGrant) -> None:
    shop.set_access_token(grant.access_token)
    shop.access_token_expires_at = grant.access_expires_at
    shop.set_refresh_token(grant.refresh_token)
    shop.refresh_token_expires_at = grant.refresh_expires_at
    shop.granted_scopes = ",".join(sorted(grant.scopes))
    _set_auth_state(shop, Shop.AuthState.OK)


def tokens_store(*, shop: Shop, grant: TokenGrant) -> None:
    """Store the whole grant atomically (row locked) and mark the shop authorized."""
    with transaction.atomic():
        locked = Shop.objects.select_for_update().get(pk=shop.pk)
        _apply_grant(locked, grant)
        locked.save(update_fields=_TOKEN_FIELDS)
    _copy_tokens(locked, shop)
    logger.info("shopify tokens stored for %s (access until %s)", shop.domain,
                grant.access_expires_at)


def tokens_forget(*, shop: Shop) -> None:
    """Erase every token field (uninstall, shop redact); the auth state is left as it is."""
    shop.forget_tokens()
    Shop.objects.filter(pk=shop.pk).update(
        **{name: getattr(shop, name) for name in TOKEN_FIELDS}, updated_at=timezone.now())


def _fresh(shop: Shop, now: datetime) -> bool:
    """The stored access token is usable for at least REFRESH_MARGIN (or never expires)."""
    if not shop.access_token_encrypted:
        return False
    expires = shop.access_token_expires_at
    return expires is None or expires > now + REFRESH_MARGIN


def _mark_needs_reauth(shop: Shop, reason: str) -> None:
    with transaction.atomic():
        locked = Shop.objects.select_for_update().get(pk=shop.pk)
        _set_auth_state(locked, Shop.AuthState.NEEDS_REAUTH)
        locked.save(update_fields=["auth_state", "auth_state_changed_at", "updated_at"])
    _copy_tokens(locked, shop)
    logger.warning("shopify shop %s needs re-authorization: %s", shop.domain, reason)


def shop_needs_reauth(*, shop: Shop, reason: str) -> ReauthRequired:
    """Mark the shop `needs_reauth` (idempotent); return the error for the caller to raise."""
    _mark_needs_reauth(shop, reason)
    return ReauthRequired(reason)


def _winner_token(locked: Shop, rejected: str | None, now: datetime) -> bool:
    """Another worker already rotated: the locked row holds a fresh token we may use."""
    if not _fresh(locked, now):
        return False
    return rejected is None or locked.get_access_token() != rejected


def _refresh_locked(shop: Shop, rejected: str | None) -> str:
    """Inside the row lock: reuse the winner's token, or refresh. Returns "" on success, else
    why the shop needs re-authorization (marked by the caller after the transaction ends)."""
    locked = Shop.objects.select_for_update().get(pk=shop.pk)
    now = timezone.now()
    if locked.auth_state == Shop.AuthState.NEEDS_REAUTH:
        _copy_tokens(locked, shop)
        return "already needs re-authorization"
    if _winner_token(locked, rejected, now):
        _copy_tokens(locked, shop)
        return ""
    refresh_token = locked.get_refresh_token()
    if not refresh_token:
        return "no refresh token"
    if locked.refresh_token_expires_at is not None and locked.refresh_token_expires_at <= now:
        return "refresh token expired"
    try:
        grant = _token_request(shop_domain=locked.domain, form={
            "grant_type": "refresh_token", "refresh_token": refresh_token})
    except ReauthRequired:
        return "refresh token refused"
    _apply_grant(locked, grant)
    locked.save(update_fields=_TOKEN_FIELDS)
    _copy_tokens(locked, shop)
    logger.info("shopify access token refreshed for %s (until %s)", shop.domain,
                grant.access_expires_at)
    return ""


def tokens_refresh(*, shop: Shop, rejected: str | None = None) -> None:
    """Make the shop's stored access token fresh (see the module contract).

    Raises `ReauthRequired` (shop marked) when the refresh token cannot be used,
    `ShopifyUnavailable` when Shopify did not answer (nothing changed; retry later).
    """
    with transaction.atomic():
        reason = _refresh_locked(shop, rejected)
    if reason:
        raise shop_needs_reauth(shop=shop, reason=reason)


def access_token(*, shop: Shop) -> str:
    """A token valid for at least 5 more minutes, refreshed first when needed."""
    if shop.auth_state == Shop.AuthState.NEEDS_REAUTH:
        raise ReauthRequired("shop needs re-authorization")
    if not _fresh(shop, timezone.now()):
        tokens_refresh(shop=shop)
    token = shop.get_access_token()
    if not token:
        raise shop_needs_reauth(shop=shop, reason="no access token")
    return token

