"""Shopify failures, classified once: token endpoint and Admin GraphQL outcomes become one type.

Nothing outside `client.py` and `tokens.py` sees an HTTP status; they hand the status and the
parsed body to `token_outcome` / `graphql_outcome` here, and callers branch on the returned
types (and their `kind`, which keys the merchant-facing sentence in `messages.py`). Errors carry
Shopify's error codes and messages, never a token or the app secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar


class ShopifyError(Exception):
    """Base of every Shopify failure. `retryable`: waiting (not the merchant) can fix it."""

    kind: ClassVar[str] = "unknown"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str = "", *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"Shopify {self.kind}: {message or self.kind}")


class InvalidSignature(ShopifyError):
    """A request claiming to come from Shopify failed its signature or timestamp check."""

    kind = "invalid_signature"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class InvalidSubjectToken(ShopifyError):
    """Token exchange refused the ID token (expired, wrong app): bounce for a fresh one."""

    kind = "invalid_session"


class ReauthRequired(ShopifyError):
    """The refresh token is missing, expired or refused, or a fresh access token got a 401:
    the shop is marked `needs_reauth` and only the merchant opening the app again fixes it."""

    kind = "needs_reauth"


class AccessTokenRejected(ShopifyError):
    """401 from the Admin API. Internal to the client, which refreshes once and retries."""

    kind = "token_rejected"


class MissingScopes(ShopifyError):
    """The granted access scopes do not cover what the app needs (`missing`, sorted)."""

    kind = "missing_scopes"

    def __init__(self, missing: Iterable[str]) -> None:
        self.missing = tuple(sorted(missing))
        super().__init__("missing " + ", ".join(self.missing))


class AppCredentialsInvalid(ShopifyError):
    """Shopify refused the app's own client id / secret (a deployment problem, not the shop)."""

    kind = "app_credentials"


class ShopLocked(ShopifyError):
    """402/423: the store is frozen (unpaid) or locked; calls resume when the store does."""

    kind = "shop_locked"
    retryable = True


class ShopifyUnavailable(ShopifyError):
    """5xx, timeout or connection failure: Shopify did not answer usefully; retry later."""

    kind = "unavailable"
    retryable = True


class Throttled(ShopifyError):
    """THROTTLED (or HTTP 429) still after the client's bounded waits; `retry_after` seconds."""

    kind = "throttled"
    retryable = True

    def __init__(self, message: str = "", *, status: int | None = None,
                 retry_after: float | None = None, cost: Mapping[str, Any] | None = None
                 ) -> None:
        self.cost = dict(cost or {})
        super().__init__(message, status=status, retry_after=retry_after)


class QueryTooCostly(ShopifyError):
    """The query's requested cost exceeds what the shop's bucket can ever hold (or Shopify's
    single-query maximum): it is never sent (again); page smaller instead."""

    kind = "query_too_costly"

    def __init__(self, *, document: str, requested: int, maximum: int) -> None:
        self.document, self.requested, self.maximum = document, requested, maximum
        super().__init__(f"{document} costs {requested}, the bucket holds {maximum}")


class GraphQLErrors(ShopifyError):
    """`errors` in a GraphQL response (a bad query, access denied) or a mutation's
    `userErrors`. `.messages` and `.codes` line up; `.data` is any partial data."""

    kind = "graphql_errors"

    def __init__(self, *, messages: Iterable[str], codes: Iterable[str] = (),
                 data: Any = None, status: int | None = None) -> None:
        self.messages = tuple(messages)
        self.codes = tuple(codes)
        self.data = data
        super().__init__("; ".join(self.messages)[:500] or "GraphQL errors", status=status)


class BulkOperationFailed(ShopifyError):
    """A bulk operation ended FAILED, CANCELED or EXPIRED (`error_code`: Shopify's)."""

    kind = "bulk_failed"

    def __init__(self, *, status_name: str, error_code: str = "") -> None:
        self.status_name, self.error_code = status_name, error_code
        super().__init__(f"bulk operation {status_name} {error_code}".strip())


class ShopifyRequestError(ShopifyError):
    """Any other 4xx: the request itself is wrong (a bug on our side)."""

    kind = "bad_request"


#: Shopify refuses any single query whose requested cost is above this, whatever the bucket.
SINGLE_QUERY_MAX_COST = 1000

_TOKEN_ERRORS: dict[str, type[ShopifyError]] = {
    "invalid_subject_token": InvalidSubjectToken,
    "invalid_grant": ReauthRequired,       # refresh token or code expired, reused or revoked
    "invalid_client": AppCredentialsInvalid,
    "unauthorized_client": AppCredentialsInvalid,
}


def _error_code(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("error") or "")
    return ""


def token_outcome(status: int, body: Any) -> ShopifyError | None:
    """None for a usable token response, else the error for the token endpoint's answer."""
    code = _error_code(body)
    if status < 400 and isinstance(body, dict) and body.get("access_token") and not code:
        return None
    if code in _TOKEN_ERRORS:
        return _TOKEN_ERRORS[code](code, status=status)
    if status in (401, 403):
        return AppCredentialsInvalid(f"token endpoint {status}", status=status)
    if status == 429:
        return Throttled("token endpoint 429", status=status, retry_after=1.0)
    if status >= 500:
        return ShopifyUnavailable(f"token endpoint {status}", status=status)
    return ShopifyRequestError(f"token endpoint {status} {code or 'unexpected answer'}",
                               status=status)


def graphql_error_codes(body: Any) -> list[str]:
    """`errors[].extensions.code` of a GraphQL response, in order ("" where absent)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    return [str(((e or {}).get("extensions") or {}).get("code") or "")
            if isinstance(e, dict) else "" for e in errors]


def _status_error(status: int, retry_after: float | None) -> ShopifyError | None:
    if status == 401:
        return AccessTokenRejected("401", status=status)
    if status in (402, 423):
        return ShopLocked(str(status), status=status)
    if status >= 500:
        return ShopifyUnavailable(str(status), status=status)
    if status == 429:
        return Throttled("429", status=status, retry_after=retry_after or 1.0)
    if status >= 400:
        return ShopifyRequestError(str(status), status=status)
    return None


def graphql_outcome(status: int, body: Any, *, retry_after: float | None = None,
                    document: str = "") -> ShopifyError | None:
    """None for a clean `data` answer, else the one error type saying what to do about it.

    THROTTLED is recognised in `errors[].extensions.code` whether Shopify answered 200 or 429,
    and carries `extensions.cost` so the caller can compute its wait.
    """
    codes = graphql_error_codes(body)
    cost = ((body.get("extensions") or {}).get("cost") or {}) if isinstance(body, dict) else {}
    if "THROTTLED" in codes:
        return Throttled("THROTTLED", status=status, retry_after=retry_after, cost=cost)
    if "MAX_COST_EXCEEDED" in codes:
        return QueryTooCostly(document=document, requested=int(cost.get("requestedQueryCost") or 0),
                              maximum=SINGLE_QUERY_MAX_COST)
    failure = _status_error(status, retry_after)
    if failure is not None:
        return failure
    if not isinstance(body, dict) or ("data" not in body and not codes):
        return ShopifyUnavailable("not a GraphQL response", status=status)
    if codes:
        errors = body.get("errors") or []
        messages = [str(e.get("message") or "") if isinstance(e, dict) else str(e)
                    for e in errors]
        return GraphQLErrors(messages=messages, codes=codes, data=body.get("data"),
                             status=status)
    return None
