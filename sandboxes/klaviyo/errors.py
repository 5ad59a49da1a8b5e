"""Klaviyo-shaped errors.

Contract: every error the sandbox answers on `/api/*` is
`{"errors": [{"id", "status", "code", "title", "detail", "source", "links", "meta"}]}` — the
spec's `ClientError`/`ServerError` shape plus the `status`/`links`/`meta` members real responses
carry. Handlers raise `ApiError`; the app turns it into a response.
"""

from __future__ import annotations

import uuid
from typing import Any

TITLES = {
    400: "Invalid input.",
    401: "Authentication credentials were not provided.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "Conflict.",
    413: "Request entity too large.",
    415: "Unsupported media type.",
    429: "Request was throttled.",
    500: "A server error occurred.",
    502: "Bad gateway.",
    503: "Service unavailable.",
    504: "Gateway timeout.",
}

CODES = {
    500: "error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


class ApiError(Exception):
    """An error answer: HTTP status, Klaviyo error code, detail and where it points."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        pointer: str | None = None,
        parameter: str | None = None,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or TITLES.get(status, "Error.")
        self.pointer = pointer
        self.parameter = parameter
        self.meta = meta or {}
        self.headers = headers or {}

    def under(self, base: str) -> ApiError:
        """This error, its pointer (relative to a record) now pointing from the body's root
        (`base` + pointer): bulk checks build no pointer strings until a record fails."""
        self.pointer = base + (self.pointer or "")
        return self

    def body(self) -> dict[str, Any]:
        source: dict[str, str] = {}
        if self.pointer is not None:
            source["pointer"] = self.pointer
        if self.parameter is not None:
            source["parameter"] = self.parameter
        return {
            "errors": [
                {
                    "id": str(uuid.uuid4()),
                    "status": self.status,
                    "code": self.code,
                    "title": self.title,
                    "detail": self.detail,
                    "source": source,
                    "links": {},
                    "meta": self.meta,
                }
            ]
        }


def invalid(detail: str, pointer: str = "/data", **kw: Any) -> ApiError:
    """400 `invalid` pointing into the body."""
    return ApiError(400, "invalid", detail, pointer=pointer, **kw)


def not_found(detail: str = "Not found.", pointer: str | None = None) -> ApiError:
    return ApiError(404, "not_found", detail, pointer=pointer)


def throttled(wait: int, retry_after: bool = True) -> ApiError:
    """429 `throttled`; `Retry-After` (integer seconds) unless `retry_after` is False."""
    wait = max(1, int(wait))
    headers = {"Retry-After": str(wait)} if retry_after else {}
    return ApiError(
        429, "throttled", f"Request was throttled. Expected available in {wait} seconds.",
        headers=headers,
    )


def server_error(status: int) -> ApiError:
    return ApiError(status, CODES.get(status, "error"), TITLES.get(status, "Server error."))
