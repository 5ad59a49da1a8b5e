"""Which Klaviyo scopes the app needs, and proving a key has them without side effects.

Klaviyo has no GA endpoint that lists a key's scopes (klaviyo-api.md §8), so each scope is probed:
`GET /api/accounts` proves the key (and names the account); read scopes are proved by small GETs;
write scopes by POST/PATCH requests with intentionally invalid bodies (`{}`). Klaviyo checks scopes
before it parses the body, so a missing scope answers 403 `permission_denied` naming it, and a
present one answers 400/404 — and nothing is created. A valid event is never sent (metrics cannot
be deleted) and lists are never created by a probe (150 creations/day cap).

Every probe runs even after one finds a missing scope, so the merchant learns all of them at once.
The probe requests themselves are the client's (`operations.SCOPE_PROBES`, `probe_scope`).
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from integrations.klaviyo.client import SCOPE_PROBES, KlaviyoClient
from integrations.klaviyo.errors import (
    KlaviyoAuthError,
    KlaviyoBadRequestError,
    KlaviyoEdgeBlockedError,
    KlaviyoError,
    KlaviyoForbiddenError,
    KlaviyoNotFoundError,
    KlaviyoRateLimitedError,
    KlaviyoScopeError,
    KlaviyoUnavailableError,
)
from integrations.klaviyo.messages import sentence_for

#: Feature → scopes it needs. The single source of truth for "what must a key be able to do".
REQUIRED_SCOPES: dict[str, tuple[str, ...]] = {
    "key and account check": ("accounts:read",),
    "subscriber profiles (create/update)": ("profiles:write",),
    "profile lookup and import polling": ("profiles:read",),
    "the Back in Stock list (find, create, add members)": ("lists:read", "lists:write"),
    "marketing consent": ("subscriptions:write", "lists:write", "profiles:write"),
    "Back in Stock events (trigger the flow)": ("events:write",),
}

#: Every scope needed, in the order merchants see them.
ALL_REQUIRED: tuple[str, ...] = tuple(
    dict.fromkeys(scope for scopes in REQUIRED_SCOPES.values() for scope in scopes)
)

#: Scopes the app uses when the key has them but never refuses a key for: scope → what it
#: enables. Without `data-privacy:write` a privacy erasure unsubscribes the shopper and takes
#: them off the list, and the merchant is told the profile itself remains (docs/privacy.md).
OPTIONAL_SCOPES: dict[str, str] = {
    "data-privacy:write": "deleting a shopper's Klaviyo profile on a privacy request",
    "metrics:read": "checking that a live flow sends the Back in Stock emails",
    "flows:read": "checking that a live flow sends the Back in Stock emails",
    "flows:write": "creating the Back in Stock flow for you",
}

#: Every scope the app may use: the required ones, then the optional ones.
ALL_KNOWN: tuple[str, ...] = (*ALL_REQUIRED, *OPTIONAL_SCOPES)

DEFAULT_LIST_NAME = "Back in Stock"
PRIVATE_KEY_RE = re.compile(r"pk_[A-Za-z0-9]{16,80}")
PUBLIC_KEY_RE = re.compile(r"[A-Za-z0-9]{6}")
LIST_ID_RE = re.compile(r"[A-Za-z0-9]{6}")
#: A verification waits at most this long for a short rate-limit window, once per probe.
MAX_PROBE_WAIT_SECONDS = 2.0

#: Connection-time kind → the JSON API's machine code.
API_CODES: dict[str, str] = {
    "empty_key": "invalid_key",
    "public_key": "invalid_key",
    "invalid_format": "invalid_key",
    "invalid_key": "invalid_key",
    "missing_scopes": "missing_scopes",
    "forbidden": "missing_scopes",
    "list_invalid_format": "list_not_found",
    "list_not_found": "list_not_found",
    "not_found": "list_not_found",
    "klaviyo_unavailable": "klaviyo_unavailable",
    "unavailable": "klaviyo_unavailable",
    "rate_limited": "klaviyo_unavailable",
    "edge_blocked": "klaviyo_unavailable",
    "decrypt_failed": "invalid_key",
    "not_connected": "not_connected",
}

_FIELD_FOR_CODE = {"invalid_key": "private_key", "missing_scopes": "private_key",
                   "list_not_found": "list_id"}


class ConnectionRefused(Exception):
    """Verification failed: nothing was saved and any previous connection is untouched.

    `kind` keys the sentence (see messages.py), `code` is the JSON API's machine code, `field`
    the form field to show the sentence next to (or "" when no input is to blame).
    """

    def __init__(
        self, kind: str, sentence: str | None = None, *, missing_scopes: list[str] | None = None,
        error_id: str = "",
    ) -> None:
        self.kind = kind
        self.missing_scopes = list(missing_scopes or [])
        self.sentence = sentence or sentence_for(kind, missing_scopes=self.missing_scopes)
        self.code = API_CODES.get(kind, "klaviyo_unavailable")
        self.field = _FIELD_FOR_CODE.get(self.code, "")
        self.error_id = error_id
        super().__init__(self.sentence)

    @property
    def halts_sync(self) -> bool:
        """True when the merchant must act (new key / new list); False when waiting helps."""
        return self.code in {"invalid_key", "missing_scopes", "list_not_found"}

    @classmethod
    def from_error(cls, error: KlaviyoError) -> ConnectionRefused:
        kind = error.kind
        if isinstance(error, (KlaviyoUnavailableError, KlaviyoRateLimitedError)):
            kind = "klaviyo_unavailable"
        scopes = error.missing_scopes if isinstance(error, KlaviyoScopeError) else None
        return cls(kind, sentence_for(error), missing_scopes=scopes, error_id=error.error_id)


@dataclass
class VerifiedKey:
    """What verification learned about a key that has every required scope."""

    account_id: str
    account_name: str
    scopes: list[str] = field(default_factory=lambda: list(ALL_REQUIRED))
    #: The optional scopes (OPTIONAL_SCOPES) the key turned out to have.
    optional: list[str] = field(default_factory=list)

    @property
    def all_scopes(self) -> list[str]:
        """What `KlaviyoConnection.scopes_verified` records: required, then optional held."""
        return [*self.scopes, *self.optional]


def key_clean(raw: object) -> str:
    """Trim and format-check a pasted key; raise ConnectionRefused with the reason."""
    key = raw.strip() if isinstance(raw, str) else ""
    key = key.strip("\"'")
    if not key:
        raise ConnectionRefused("empty_key")
    if key.startswith("pk_"):
        if PRIVATE_KEY_RE.fullmatch(key):
            return key
        raise ConnectionRefused("invalid_format")
    if PUBLIC_KEY_RE.fullmatch(key):
        raise ConnectionRefused("public_key")
    raise ConnectionRefused("invalid_format")


def list_id_clean(raw: object) -> str:
    """Trim and format-check a list id (case-sensitive, 6 letters/digits); "" when absent."""
    if raw is None:
        return ""
    value = raw.strip() if isinstance(raw, str) else None
    if value is None or (value and not LIST_ID_RE.fullmatch(value)):
        raise ConnectionRefused("list_invalid_format")
    return value


def key_verify(*, client: KlaviyoClient) -> VerifiedKey:
    """Prove the client's key works and has every required scope; raise ConnectionRefused.

    A 401 stops at once (nothing else can be learned); an unavailable Klaviyo or an edge block
    also stops (the answer would be inconclusive). Missing scopes are collected from every probe.
    """
    missing: set[str] = set()
    account: dict[str, Any] = {}
    try:
        account = _patiently(client.get_account)
    except KlaviyoScopeError as error:
        missing.update(error.missing_scopes or ["accounts:read"])
    except KlaviyoError as error:
        raise ConnectionRefused.from_error(error) from None
    for probe in SCOPE_PROBES:  # the client owns each probe's request (operations.py)
        try:
            _patiently(functools.partial(client.probe_scope, probe))
        except KlaviyoScopeError as error:
            missing.update(error.missing_scopes or [probe.scope])
        except KlaviyoForbiddenError:
            missing.add(probe.scope)
        except (KlaviyoBadRequestError, KlaviyoNotFoundError):
            pass  # the scope check passed; only the (intentionally invalid) request failed
        except (KlaviyoAuthError, KlaviyoEdgeBlockedError, KlaviyoRateLimitedError,
                KlaviyoUnavailableError) as error:
            raise ConnectionRefused.from_error(error) from None
        except KlaviyoError:
            pass  # any other 4xx comes after the scope check too
    optional_missing = missing & set(OPTIONAL_SCOPES)
    missing -= optional_missing
    if missing:
        ordered = [s for s in ALL_REQUIRED if s in missing] + sorted(missing - set(ALL_REQUIRED))
        raise ConnectionRefused("missing_scopes", missing_scopes=ordered)
    attributes = account.get("attributes") or {}
    contact = attributes.get("contact_information") or {}
    return VerifiedKey(
        account_id=str(account.get("id") or ""),
        account_name=str(contact.get("organization_name") or attributes.get("name") or ""),
        optional=[s for s in OPTIONAL_SCOPES if s not in optional_missing],
    )


def _patiently(call: Callable[[], Any]) -> Any:
    """Run `call`; after a short 429 (≤ 2 s, e.g. Get Accounts' 1/s burst) wait and retry once."""
    try:
        return call()
    except KlaviyoRateLimitedError as error:
        wait = error.retry_after if error.retry_after is not None else 1.0
        if wait > MAX_PROBE_WAIT_SECONDS:
            raise
        time.sleep(wait)
        return call()


def list_resolve(
    *, client: KlaviyoClient, list_id: str = "", fallback_list_id: str = ""
) -> tuple[str, str]:
    """(id, name) of the list to sync to: `list_id` (must exist: else ConnectionRefused
    list_not_found), else `fallback_list_id` if it still exists, else the list named "Back in
    Stock", created only when there is none (Klaviyo caps list creation at 150/day)."""
    if list_id:
        try:
            found = client.get_list(list_id)
        except KlaviyoNotFoundError:
            raise ConnectionRefused("list_not_found") from None
        return list_id, _list_name(found)
    if fallback_list_id:
        try:
            return fallback_list_id, _list_name(client.get_list(fallback_list_id))
        except KlaviyoNotFoundError:
            pass  # deleted since: fall back to the default list
    existing = client.get_lists(name=DEFAULT_LIST_NAME)
    if existing:
        chosen = sorted(existing, key=lambda item: str(item.get("id")))[0]
        return str(chosen["id"]), DEFAULT_LIST_NAME
    created = client.create_list(DEFAULT_LIST_NAME)
    return str(created["id"]), DEFAULT_LIST_NAME


def _list_name(found: dict[str, Any]) -> str:
    return str((found.get("attributes") or {}).get("name") or "")
