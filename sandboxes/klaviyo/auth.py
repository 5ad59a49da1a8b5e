"""Authentication and scopes, as Klaviyo answers them.

Contract: `identify(headers, registry)` reads `Authorization: Klaviyo-API-Key <key>` without
failing (the key is needed to attribute faults and the request log even when it will be
refused). `authenticate(ident)` then raises 401 `not_authenticated` (no header, or another
scheme) or 401 `authentication_failed` (unknown or revoked key); `require_scopes(record, scopes)`
raises 403 `permission_denied` naming every missing scope, comma + space separated, in the
spec's order — before anything looks at the body.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApiError
from .registry import KeyRecord, Registry
from .state import AccountState

SCHEME = "Klaviyo-API-Key"


@dataclass(frozen=True)
class Identity:
    header: str
    scheme: str
    key: str | None
    record: KeyRecord | None
    account: AccountState | None


def identify(headers: dict[str, str], registry: Registry) -> Identity:
    header = (headers.get("authorization") or "").strip()
    scheme, _, token = header.partition(" ")
    key = token.strip() if scheme == SCHEME and token.strip() else None
    record = registry.find_key(key)
    account = registry.accounts.get(record.account_id) if record else None
    return Identity(header, scheme, key, record, account)


def authenticate(ident: Identity) -> tuple[KeyRecord, AccountState]:
    if not ident.header:
        raise ApiError(401, "not_authenticated", "Authentication credentials were not provided.")
    if ident.scheme != SCHEME:
        raise ApiError(401, "not_authenticated",
                       "Missing or invalid authorization scheme. Please use Klaviyo-API-Key.")
    if ident.record is None or ident.record.revoked or ident.account is None:
        raise ApiError(401, "authentication_failed", "Incorrect authentication credentials.",
                       title="Incorrect authentication credentials.")
    return ident.record, ident.account


def require_scopes(record: KeyRecord, scopes: tuple[str, ...]) -> None:
    missing = record.missing(scopes)
    if missing:
        raise ApiError(403, "permission_denied",
                       f"Your API key is missing required scopes: {', '.join(missing)}")
