"""Klaviyo failures, classified once from the HTTP response.

Nothing outside `client.py` looks at a status code: callers branch on these types (and their
`kind`, which keys the merchant-facing sentence in `messages.py`). Every error carries Klaviyo's
own error objects (code, detail, pointer, error id) for the support timeline — never the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

_MISSING_SCOPES_RE = re.compile(r"missing required scopes?:\s*(?P<scopes>.+)$", re.IGNORECASE)
_EXPECTED_IN_RE = re.compile(r"Expected available in (?P<seconds>\d+) second", re.IGNORECASE)


@dataclass(frozen=True)
class ErrorItem:
    """One entry of Klaviyo's `errors[]`."""

    code: str = ""
    title: str = ""
    detail: str = ""
    pointer: str = ""
    parameter: str = ""
    error_id: str = ""

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ErrorItem:
        source = raw.get("source") or {}
        return cls(
            code=str(raw.get("code") or ""),
            title=str(raw.get("title") or ""),
            detail=str(raw.get("detail") or ""),
            pointer=str(source.get("pointer") or ""),
            parameter=str(source.get("parameter") or ""),
            error_id=str(raw.get("id") or ""),
        )


class KlaviyoError(Exception):
    """Base of every Klaviyo failure. `retryable` says whether waiting can fix it."""

    kind: ClassVar[str] = "unknown"
    retryable: ClassVar[bool] = False
    #: The merchant must do something (new key, new list) before syncing can resume.
    merchant_must_act: ClassVar[bool] = False

    def __init__(
        self,
        *,
        status: int | None = None,
        errors: list[ErrorItem] | None = None,
        message: str = "",
        retry_after: float | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.errors = errors or []
        self.retry_after = retry_after
        self.meta = meta or {}
        first = self.errors[0] if self.errors else ErrorItem()
        text = message or first.detail or first.title or self.kind
        super().__init__(f"Klaviyo {status or 'no response'} {self.kind}: {text}")

    @property
    def first(self) -> ErrorItem:
        return self.errors[0] if self.errors else ErrorItem()

    @property
    def code(self) -> str:
        return self.first.code

    @property
    def detail(self) -> str:
        return self.first.detail

    @property
    def pointer(self) -> str:
        return self.first.pointer

    @property
    def error_id(self) -> str:
        return self.first.error_id


class KlaviyoAuthError(KlaviyoError):
    """401: the key is wrong, revoked, or sent with the wrong scheme."""

    kind = "invalid_key"
    merchant_must_act = True


class KlaviyoScopeError(KlaviyoError):
    """403 `permission_denied` naming the scopes the key lacks."""

    kind = "missing_scopes"
    merchant_must_act = True

    @property
    def missing_scopes(self) -> list[str]:
        match = _MISSING_SCOPES_RE.search(self.detail)
        if not match:
            return []
        return [scope.strip(" .") for scope in match.group("scopes").split(",") if scope.strip()]


class KlaviyoForbiddenError(KlaviyoError):
    """A JSON 403 that is not about scopes (e.g. a plan-gated feature)."""

    kind = "forbidden"
    merchant_must_act = True


class KlaviyoEdgeBlockedError(KlaviyoError):
    """An HTML 403 from Klaviyo's edge (bot challenge): not the key's fault; try again later."""

    kind = "edge_blocked"
    retryable = True


class KlaviyoNotFoundError(KlaviyoError):
    """404: the list or profile the request names does not exist in this account."""

    kind = "not_found"


class KlaviyoDuplicateProfileError(KlaviyoError):
    """409 `duplicate_profile`: email and phone belong to different existing profiles."""

    kind = "duplicate_profile"

    @property
    def duplicate_profile_id(self) -> str:
        return str(self.meta.get("duplicate_profile_id") or "")


class KlaviyoBadRequestError(KlaviyoError):
    """400 (or another 4xx): the request itself is wrong; `pointers` say which records."""

    kind = "bad_request"

    @property
    def pointers(self) -> list[str]:
        return [item.pointer for item in self.errors if item.pointer]


class KlaviyoRateLimitedError(KlaviyoError):
    """429 `throttled`; `retry_after` from the header, else the body's hint, else None."""

    kind = "rate_limited"
    retryable = True


class KlaviyoUnavailableError(KlaviyoError):
    """5xx, timeout or connection failure: Klaviyo did not answer usefully; wait and retry."""

    kind = "unavailable"
    retryable = True


def _parse_retry_after(headers: dict[str, str], errors: list[ErrorItem]) -> float | None:
    raw = headers.get("retry-after") or headers.get("Retry-After")
    if raw:
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
    for item in errors:
        match = _EXPECTED_IN_RE.search(item.detail)
        if match:
            return float(match.group("seconds"))
    return None


def classify(
    status: int, body: Any, headers: dict[str, str], *, content_type: str = ""
) -> KlaviyoError:
    """Turn a non-2xx response into the one error type that says what to do about it."""
    is_json = isinstance(body, dict)
    errors = [ErrorItem.from_json(e) for e in body.get("errors", [])] if is_json else []
    meta: dict[str, Any] = {}
    for raw in body.get("errors", []) if is_json else []:
        meta.update(raw.get("meta") or {})
    if status == 401:
        return KlaviyoAuthError(status=status, errors=errors)
    if status == 403:
        if not is_json or "html" in content_type:
            return KlaviyoEdgeBlockedError(
                status=status, message="blocked at Klaviyo's edge (HTML 403)"
            )
        scope_error = KlaviyoScopeError(status=status, errors=errors)
        if scope_error.code == "permission_denied" and scope_error.missing_scopes:
            return scope_error
        return KlaviyoForbiddenError(status=status, errors=errors)
    if status == 404:
        return KlaviyoNotFoundError(status=status, errors=errors)
    if status == 409 and any(item.code == "duplicate_profile" for item in errors):
        return KlaviyoDuplicateProfileError(status=status, errors=errors, meta=meta)
    if status == 429:
        return KlaviyoRateLimitedError(
            status=status, errors=errors, retry_after=_parse_retry_after(headers, errors)
        )
    if status >= 500:
        return KlaviyoUnavailableError(status=status, errors=errors)
    return KlaviyoBadRequestError(status=status, errors=errors)


@dataclass
class PartialFailure:
    """`X-Klaviyo-Partial-Failure`: fields Klaviyo dropped while accepting the rest."""

    fields: list[str] = field(default_factory=list)
