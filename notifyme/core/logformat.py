"""The two shapes of a log line: one JSON object per line, or one readable line for a terminal.

`LOG_FORMAT=json` (the default without DEBUG) writes, per record, one JSON object:
`time` (UTC, ISO 8601 with milliseconds), `level`, `logger`, `message`, `request_id`, `job_id`,
`shop` (always present, "" when unknown: a log pipeline can index them without guessing), any
`extra=` fields the call passed, and `exception` (the traceback text) or `stack` when there is
one. A multi-line message or traceback stays inside its JSON string, so one record is always
one line for the collector. `LOG_FORMAT=text` (the default with DEBUG=1, i.e. `make run`) writes
`time level logger [request job shop] message`, with the traceback below.

Both read the fields `notifyme.core.logcontext.ContextFilter` set and print what
`RedactSecretsFilter` left (the handlers in settings.LOGGING run both filters first); as a last
guard the JSON formatter passes every field through `redact_log` once more.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import orjson

from notifyme.core.logcontext import FIELDS
from notifyme.core.logging import _STANDARD, redact_deep


def _utc(record: logging.LogRecord) -> str:
    moment = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _jsonable(value: Any) -> Any:
    """JSON's own types as they are (containers walked); anything else as its `str`, so the
    redaction sees the text that will be printed (Django's `django.request` lines carry the
    request object, whose repr holds the full URL with its query)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    return str(value)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {name: _jsonable(value) for name, value in vars(record).items()
            if name not in _STANDARD and not name.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring for the keys)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            line[name] = getattr(record, name, "") or ""
        line.update({k: v for k, v in _extras(record).items() if k not in line})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # Redacted field by field (never the finished text, whose quotes a pattern could eat).
        return orjson.dumps(redact_deep(line)).decode()


class TextFormatter(logging.Formatter):
    """`2026-12-03 16:40:01,123 INFO notifyme.sync [req=ab12… job=… shop=demo…] message`;
    the bracket lists only the fields that are known."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(context)s%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        known = [f"{name}={getattr(record, name)}" for name in FIELDS
                 if getattr(record, name, "")]
        record.context = f"[{' '.join(known)}] " if known else ""  # type: ignore[attr-defined]
        try:
            return super().format(record)
        finally:
            delattr(record, "context")
