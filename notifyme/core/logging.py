"""Keeping secrets out of logs: Klaviyo keys, bearer tokens and credentials that ride in URLs.

Three credentials travel in query strings, so every access log line would carry them:
the shopper's unsubscribe `token` (cancel links, notifyme/subscriptions/links.py), Shopify's app
proxy `signature` (every /proxy/ request) and the App Bridge `id_token` (every /app/ document
load); so does Klaviyo's click-tracking `_kx`, which identifies the shopper's profile (it rides
on tracked cancel links). `redact` masks their values wherever a URL shows up, plain or
percent-encoded (inside another URL's query, e.g. the bounce page's `shopify-reload`).

`RedactSecretsFilter` applies it to every record the app's handlers write, including the
development server's request lines (`django.server`); `RedactingGunicornLogger` (used by
`gunicorn.conf.py`) applies it to every atom of gunicorn's access log.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger
from gunicorn.glogging import SafeAtoms

#: Query parameters whose value is a credential or identifies a shopper.
URL_SECRET_PARAMS = ("token", "signature", "id_token", "_kx")
REDACTED = "[redacted]"

_KEY = re.compile(r"pk_[A-Za-z0-9]{4,}")
_HEADER_SECRETS = [
    re.compile(r"(Klaviyo-API-Key\s+)\S+", re.IGNORECASE),
    re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
]
_NAMES = "|".join(URL_SECRET_PARAMS)
_URL_SECRETS = [
    # ?token=… / &signature=… / a query that starts with the parameter (QUERY_STRING alone).
    re.compile(rf"((?:^|[?&;\s\"'])(?:{_NAMES})=)[^&;\s\"']*", re.IGNORECASE),
    # The same inside a percent-encoded URL: %3Ftoken%3D… up to the next encoded `&`.
    re.compile(rf"((?:%3F|%26)(?:{_NAMES})%3D)(?:(?!%26)[^&;\s\"'])*", re.IGNORECASE),
]


def redact(text: str) -> str:
    """Replace secrets in free text; Klaviyo keys keep only their last four characters."""
    text = _KEY.sub(lambda m: f"pk_…{m.group(0)[-4:]}", text)
    for pattern in (*_HEADER_SECRETS, *_URL_SECRETS):
        text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return text


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactSecretsFilter(logging.Filter):
    """Masks secrets in a record's message and traceback; keeps the record's args when it can
    (formatters such as Django's ServerFormatter read them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            self._scrub(record, cleaned)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True

    @staticmethod
    def _scrub(record: logging.LogRecord, cleaned: str) -> None:
        if isinstance(record.msg, str) and isinstance(record.args, tuple):
            record.msg = redact(record.msg)
            record.args = tuple(_redact_value(arg) for arg in record.args)
            try:
                if record.getMessage() == cleaned:
                    return
            except (TypeError, ValueError):
                pass
        record.msg, record.args = cleaned, None


class RedactedAtoms(SafeAtoms):
    """gunicorn's atoms, each value redacted when the log format reads it: a format uses a
    dozen of the fifty-odd atoms (every header and environ entry is one), so the others are
    never scanned (a few hundred microseconds per request under a webhook burst)."""

    def __getitem__(self, key: str) -> Any:
        return _redact_value(super().__getitem__(key))


class RedactingGunicornLogger(GunicornLogger):
    """gunicorn's logger with every access-log atom (request line, path, query, referer,
    headers, environ) passed through `redact`, whatever `access_log_format` picks."""

    atoms_wrapper_class = RedactedAtoms
