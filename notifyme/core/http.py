"""The app's JSON API style: one error envelope, one JSON body reader, one text-field check.

Every machine-readable error has the same shape:

```
{"error": {"code": "<machine code>", "message": "<plain sentence>",
           "fields": {"<field>": ["..."]}, ...}}
```

`fields` is present only when specific inputs are to blame, so clients can show each message next
to its field; an endpoint may add its own keys beside them (e.g. `missing_scopes`).

`json_object_read` and `text_value` raise `InputError`, which carries its own response, so a view
validates every input before it does anything (no call to Klaviyo with a value the database would
refuse). Limits: the body is at most `DATA_UPLOAD_MAX_MEMORY_SIZE` (413 above), nesting that
exhausts the parser is a 400, and text may hold no control characters (NUL included) and no
unpaired surrogates, which PostgreSQL cannot store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse

# C0/C1 controls (NUL among them) and lone surrogates: never valid in a name, a key or an id.
_UNSTORABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def json_error(
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, Sequence[str]] | None = None,
    **extra: Any,
) -> JsonResponse:
    """A JSON error response with the app's error envelope and the given HTTP status.

    `extra` keys with a falsy value are left out, so callers can pass optional details as-is.
    """
    error: dict[str, object] = {"code": code, "message": message}
    if fields:
        error["fields"] = {name: list(messages) for name, messages in fields.items()}
    error.update({key: value for key, value in extra.items() if value})
    return JsonResponse({"error": error}, status=status)


@dataclass
class InputError(Exception):
    """The request's input is unusable; `response()` is the envelope naming the field."""

    status: int
    code: str
    message: str
    fields: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def for_field(cls, name: str, message: str, *, code: str = "invalid_request") -> InputError:
        return cls(400, code, message, {name: [message]})

    def response(self) -> JsonResponse:
        return json_error(self.status, self.code, self.message, self.fields or None)


def json_object_read(request: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object (an empty body is `{}`); raise InputError for anything else."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise InputError(413, "too_large", "The request body is too large.") from None
    except ValueError:  # Django's size check parses a Content-Length that is not a number
        message = "The Content-Length header is not a number."
        raise InputError(400, "invalid_request", message) from None
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise InputError(400, "invalid_json", "The request body must be JSON.") from None
    except RecursionError:
        raise InputError(400, "invalid_json", "The request body is nested too deeply.") from None
    if not isinstance(data, dict):
        raise InputError(400, "invalid_json", "The request body must be a JSON object.")
    return data


def fields_only(data: Mapping[str, Any], allowed: Sequence[str]) -> None:
    """Refuse fields the endpoint does not take (a typo must not be silently ignored)."""
    for name in data:
        if name not in allowed:
            shown = name[:40] if not _UNSTORABLE.search(name[:40]) else "?"
            raise InputError.for_field(
                shown, f"Unknown field {shown!r}; this endpoint takes {', '.join(allowed)}.",
                code="unknown_field",
            )


def text_value(
    data: Mapping[str, Any], name: str, *, max_length: int, required: bool = False,
    message: str | None = None,
) -> str | None:
    """`data[name]` as stripped text of at most `max_length` characters, or None when absent
    (and not `required`); raise InputError naming the field for any other value."""
    value = data.get(name)
    if value is None:
        if required:
            raise InputError.for_field(name, message or f"{name} is required and must be a string.")
        return None
    if not isinstance(value, str):
        raise InputError.for_field(name, message or f"{name} must be a string.")
    if _UNSTORABLE.search(value):
        raise InputError.for_field(
            name, message or f"{name} contains characters that are not allowed."
        )
    value = value.strip()
    if len(value) > max_length:
        raise InputError.for_field(
            name, message or f"{name} must be at most {max_length} characters."
        )
    return value
