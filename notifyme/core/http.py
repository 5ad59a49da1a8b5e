"""Shared JSON error responses: one shape for every machine-readable error the app returns.

```
{"error": {"code": "<machine code>", "message": "<plain sentence>", "fields": {"<field>": ["..."]}}}
```

`fields` is present only when specific inputs are to blame, so clients can show each message next
to its field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.http import JsonResponse


def json_error(
    status: int,
    code: str,
    message: str,
    fields: Mapping[str, Sequence[str]] | None = None,
) -> JsonResponse:
    """A JSON error response with the app's error envelope and the given HTTP status."""
    error: dict[str, object] = {"code": code, "message": message}
    if fields:
        error["fields"] = {name: list(messages) for name, messages in fields.items()}
    return JsonResponse({"error": error}, status=status)
