"""Small request/response types shared by the WSGI app, the Klaviyo handlers and the admin API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson

from .state import AccountState

STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad Request",
               401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
               415: "Unsupported Media Type", 429: "Too Many Requests",
               500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
               504: "Gateway Timeout"}
JSONAPI = "application/vnd.api+json"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    raw_body: bytes
    base_url: str
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    account: AccountState | None = None

    @classmethod
    def parse_query(cls, qs: str) -> dict[str, list[str]]:
        return parse_qs(qs, keep_blank_values=True)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        if not self.raw_body:
            return None
        return orjson.loads(self.raw_body)  # raises JSONDecodeError (a ValueError)


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable, or bytes/str for other content types
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSONAPI

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return orjson.dumps(self.body, default=str)

    @property
    def status_line(self) -> str:
        return f"{self.status} {STATUS_TEXT.get(self.status, 'Unknown')}"


def collection(items: list[dict[str, Any]], self_url: str, next_url: str | None = None,
               prev_url: str | None = None) -> dict[str, Any]:
    return {"data": items, "links": {"self": self_url, "next": next_url, "prev": prev_url}}


def page_window(req: Request, total: int, default: int, maximum: int) -> tuple[int, int]:
    """(start, size) from `page[cursor]` (an offset) and `page[size]`; 400 when out of range."""
    from .errors import ApiError

    size_text = req.arg("page[size]")
    try:
        size = int(size_text) if size_text is not None else default
        start = int(req.arg("page[cursor]") or 0)
    except ValueError:
        raise ApiError(400, "invalid", "Invalid page parameter.", parameter="page") from None
    if not 1 <= size <= maximum:
        raise ApiError(400, "invalid", f"page[size] must be between 1 and {maximum}.",
                       parameter="page[size]")
    return max(0, min(start, total)), size


def page_links(req: Request, start: int, size: int, total: int) -> tuple[str, str | None,
                                                                        str | None]:
    base = f"{req.base_url}{req.path}"
    keep = {k: v[0] for k, v in req.query.items() if k != "page[cursor]"}

    def url(cursor: int) -> str:
        from urllib.parse import urlencode

        return base + "?" + urlencode({**keep, "page[cursor]": str(cursor)})

    nxt = url(start + size) if start + size < total else None
    prev = url(max(0, start - size)) if start > 0 else None
    return url(start) if start else base, nxt, prev
