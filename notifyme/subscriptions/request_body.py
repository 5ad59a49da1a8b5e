"""Read a small storefront request body (JSON object or form fields) without ever raising a 500.

`request_payload_read` returns a flat `dict` of field → value (JSON values keep their types; form
values are strings, the last one wins when a field repeats) or raises `PayloadError` describing
the 4xx answer: 413 for bodies over `DATA_UPLOAD_MAX_MEMORY_SIZE` (checked from Content-Length
and from the bytes actually read, before any parsing), 415 for content types other than JSON,
urlencoded or multipart forms, 400 (field `body`) for bodies that do not parse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

JSON_TYPES = frozenset({"application/json"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
MAX_FORM_FIELDS = 50


@dataclass
class PayloadError(Exception):
    status: int
    code: str
    message: str
    fields: dict[str, list[str]] = field(default_factory=dict)


def _too_large() -> PayloadError:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return PayloadError(413, "payload_too_large", f"The request body is over {limit} bytes.")


def _malformed(message: str) -> PayloadError:
    return PayloadError(400, "malformed_body", message, {"body": [message]})


def request_body_read(request: HttpRequest) -> bytes:
    """The raw body, refusing oversized ones (413) before Django buffers them."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    raw_length = request.META.get("CONTENT_LENGTH") or "0"
    try:
        declared = int(raw_length)
    except (TypeError, ValueError):
        raise _malformed("The Content-Length header is not a number.") from None
    if limit is not None and declared > limit:
        raise _too_large()
    try:
        body = request.body
    except RequestDataTooBig:
        raise _too_large() from None
    if limit is not None and len(body) > limit:
        raise _too_large()
    return body


def _read_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise _malformed("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise _malformed("The JSON body must be an object.")
    return data


def _read_urlencoded(body: bytes) -> dict[str, Any]:
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=False,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError:
        raise _malformed("The form body could not be read.") from None
    return dict(pairs)


def _read_multipart(request: HttpRequest) -> dict[str, Any]:
    try:
        post = request.POST
    except (MultiPartParserError, SuspiciousOperation, ValueError):
        raise _malformed("The form body could not be read.") from None
    return {key: post.get(key) for key in post}


def request_payload_read(request: HttpRequest) -> dict[str, Any]:
    """The body as a dict of fields; raise PayloadError (413, 415 or 400) instead of failing."""
    content_type = (request.content_type or "").lower()
    if content_type not in JSON_TYPES | FORM_TYPES:
        raise PayloadError(
            415, "unsupported_media_type",
            "Send the form as JSON (application/json) or as form fields.",
        )
    body = request_body_read(request)
    if content_type in JSON_TYPES:
        return _read_json(body)
    if content_type == "multipart/form-data":
        return _read_multipart(request)
    return _read_urlencoded(body)
