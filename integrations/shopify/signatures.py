"""Shopify's request signatures, computed and checked exactly as Shopify signs them.

- Webhooks: `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(app secret, raw body bytes)), checked
  before anything parses the body, against `SHOPIFY_API_SECRET` and then, during a secret
  rotation (deliveries may use the old secret for up to an hour), `SHOPIFY_API_SECRET_OLD`.
- OAuth / app-load queries (install link, auth callback): `hmac` = hex HMAC-SHA256 over every
  other parameter (`signature` excluded too), each `key=value` with `%`, `&` (and `=` in keys)
  escaped as shopify_python_api does, sorted, joined with `&` (shopify-platform.md §2). A
  parameter given twice is refused (Shopify never sends one twice here; a second copy is how a
  tampered link smuggles a value past the signature), and so is a timestamp outside the replay
  window: older than `max_age_seconds` (90 s, as Shopify's JS library) or more than
  `MAX_FUTURE_SECONDS` ahead (clock skew; a larger `max_age_seconds` never widens it).

Every comparison is constant time (`hmac.compare_digest` over bytes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings

from integrations.shopify.errors import InvalidSignature

__all__ = ["MAX_FUTURE_SECONDS", "InvalidSignature", "app_secrets", "oauth_query_hmac",
           "oauth_query_message", "oauth_query_verify", "webhook_signature",
           "webhook_signature_valid"]

MAX_AGE_SECONDS = 90
MAX_FUTURE_SECONDS = 90
_UNSIGNED = ("hmac", "signature")


def app_secrets() -> list[str]:
    """The secrets a Shopify signature may use: the current one, then the previous one."""
    found = [settings.SHOPIFY_API_SECRET, getattr(settings, "SHOPIFY_API_SECRET_OLD", "")]
    return [str(secret) for secret in found if secret]


def _hmac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def webhook_signature(body: bytes, secret: str) -> str:
    """base64 HMAC-SHA256 of the raw body, as in `X-Shopify-Hmac-Sha256`."""
    return base64.b64encode(_hmac(secret, body)).decode("ascii")


def webhook_signature_valid(body: bytes, header: str | None) -> bool:
    """True when `header` is the body's signature under the current or the previous secret."""
    if not header:
        return False
    given = header.strip().encode("utf-8", "replace")
    return any(hmac.compare_digest(webhook_signature(body, secret).encode("ascii"), given)
               for secret in app_secrets())


def _pairs(query: Mapping[str, Any] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(key, value) pairs of a QueryDict, a {key: [values]} / {key: value} map or pairs."""
    if hasattr(query, "lists"):
        return [(k, str(v)) for k, values in query.lists() for v in values]
    if isinstance(query, Mapping):
        out: list[tuple[str, str]] = []
        for key, value in query.items():
            values = value if isinstance(value, list | tuple) else [value]
            out += [(str(key), str(v)) for v in values]
        return out
    return [(str(k), str(v)) for k, v in query]


def oauth_query_message(pairs: Mapping[str, Any] | Iterable[tuple[str, str]]) -> str:
    """The signed message: escaped `key=value` of every parameter but hmac, sorted, `&`-joined."""
    encoded = []
    for key, value in _pairs(pairs):
        if key in _UNSIGNED:
            continue
        k = key.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
        v = value.replace("%", "%25").replace("&", "%26")
        encoded.append(f"{k}={v}")
    return "&".join(sorted(encoded))


def oauth_query_hmac(pairs: Mapping[str, Any] | Iterable[tuple[str, str]], secret: str) -> str:
    """Hex HMAC-SHA256 of `oauth_query_message(pairs)` (the `hmac` parameter)."""
    return hmac.new(secret.encode(), oauth_query_message(pairs).encode(),
                    hashlib.sha256).hexdigest()


def _single_values(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    single: dict[str, str] = {}
    for key, value in pairs:
        if key in single:
            raise InvalidSignature(f"parameter {key!r} given more than once")
        single[key] = value
    return single


def _timestamp_check(raw: str | None, *, max_age_seconds: int, now: float) -> None:
    if not raw:
        raise InvalidSignature("timestamp missing")
    try:
        stamp = int(raw)
    except ValueError:
        raise InvalidSignature("timestamp is not a number") from None
    if stamp < now - max_age_seconds:
        raise InvalidSignature("timestamp too old")
    if stamp > now + MAX_FUTURE_SECONDS:
        raise InvalidSignature("timestamp in the future")


def oauth_query_verify(query: Mapping[str, Any] | Iterable[tuple[str, str]], *,
                       max_age_seconds: int = MAX_AGE_SECONDS, now: float | None = None
                       ) -> None:
    """Return if the query is signed by Shopify with the app secret (current or previous) and
    fresh; else raise `InvalidSignature(reason)`. Accepts a QueryDict or {key: [values]}."""
    single = _single_values(_pairs(query))
    given = single.get("hmac", "")
    if not given:
        raise InvalidSignature("hmac missing")
    secrets = app_secrets()
    if not secrets:
        raise InvalidSignature("no app secret configured")
    given_bytes = given.strip().lower().encode("utf-8", "replace")
    if not any(hmac.compare_digest(oauth_query_hmac(single, s).encode("ascii"), given_bytes)
               for s in secrets):
        raise InvalidSignature("hmac does not match")
    _timestamp_check(single.get("timestamp"), max_age_seconds=max_age_seconds,
                     now=time.time() if now is None else now)
