"""Request/response types of the stand-in's WSGI app (no Django)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson

STATUS_TEXT = {200: "OK", 201: "Created", 302: "Found", 303: "See Other", 400: "Bad Request",
               401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
               415: "Unsupported Media Type", 422: "Unprocessable Entity",
               429: "Too Many Requests", 500: "Internal Server Error",
               503: "Service Unavailable"}
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


class HttpError(Exception):
    """Answer `status` with a JSON body (`body`) — raised anywhere below a route."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"{status}")
        self.status = status
        self.body = body


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    raw_body: bytes
    base_url: str

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        host = environ.get("HTTP_HOST") or (
            f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}")
        return cls(method=environ["REQUEST_METHOD"].upper(),
                   path=environ.get("PATH_INFO") or "/",
                   query=parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True),
                   headers=headers, raw_body=raw,
                   base_url=f"{environ.get('wsgi.url_scheme', 'http')}://{host}")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return orjson.loads(self.raw_body) if self.raw_body else None

    def form_or_json(self) -> dict[str, Any]:
        """The body as a flat dict: JSON object, or form-encoded (last value wins)."""
        if self.content_type == "application/json":
            try:
                body = self.json()
            except ValueError:
                raise HttpError(400, {"error": "invalid_request",
                                      "error_description": "body is not valid JSON"}) from None
            if body is None:
                return {}
            if not isinstance(body, dict):
                raise HttpError(400, {"error": "invalid_request",
                                      "error_description": "body must be a JSON object"})
            return body
        parsed = parse_qs(self.raw_body.decode("utf-8", "replace"), keep_blank_values=True)
        return {key: values[-1] for key, values in parsed.items()}


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-serialisable, or bytes/str
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = JSON

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


def redirect(location: str, status: int = 302) -> Response:
    return Response(status, b"", {"Location": location}, content_type=HTML)
