"""Keeping secrets out of logs: Klaviyo keys, bearer tokens and credentials that ride in URLs.

Three credentials travel in query strings, so every access log line would carry them:
the shopper's unsubscribe `token` (cancel links, notifyme/subscriptions/links.py), Shopify's app
proxy `signature` (every /proxy/ request) and the App Bridge `id_token` (every /app/ document
load); so does Klaviyo's click-tracking `_kx`, which identifies the shopper's profile (it rides
on tracked cancel links). `redact` masks their values wherever a URL shows up, plain or
percent-encoded (inside another URL's query, e.g. the bounce page's `shopify-reload`).

Credentials in free text are masked too: Klaviyo private keys (`pk_…abcd`, the app's display form),
Shopify tokens (`shpat_`, `shpua_`, `shprt_`, … → `shpat_[redacted]`), Fernet tokens (what the
database stores for keys and tokens), JWTs (App Bridge ID tokens), `Bearer` / `Basic` /
`Klaviyo-API-Key` credentials and any `name=value` or `"name": "value"` whose name says secret
(access_token, private_key, X-Shopify-Hmac-Sha256, …). `redact` is also what the Klaviyo attempt
rows pass paths and error details through, so it masks credentials only.

Log lines also mask shoppers' contact details (`redact_log`): an email keeps its first character
and its domain (`j…@example.com`), an E.164 phone its last four digits (`+…0123`). Logs live
outside the database, where a shopper's erasure (notifyme/privacy) cannot reach them, and the
support pages have the full records; a log line needs to say which domain bounced, not who.

`RedactSecretsFilter` applies `redact_log` to every record the app's handlers write — message,
arguments, extra fields and the exception's traceback — including the development server's
request lines (`django.server`); `RedactingGunicornLogger` (gunicorn_logger.py, named by
`gunicorn.conf.py`) applies it to every atom of gunicorn's access log.
"""

from __future__ import annotations

import logging
import re
from typing import Any

#: Query parameters whose value is a credential or identifies a shopper.
URL_SECRET_PARAMS = ("token", "signature", "id_token", "_kx", "hmac", "session",
                     "access_token")
#: Names whose value is a secret wherever it follows as `name=value`, `name: value` or
#: `"name": "value"` (JSON bodies, header dicts, reprs).
SECRET_NAMES = ("access_token", "refresh_token", "private_key", "api_key", "client_secret",
                "api_secret", "password", "id_token", "x-shopify-access-token",
                "x-shopify-hmac-sha256", "encryption_keys?", "secret_key", "dsn")
REDACTED = "[redacted]"

_KEY = re.compile(r"pk_[A-Za-z0-9]{4,}")
_SHOPIFY_TOKEN = re.compile(r"\b(shp[a-z]{2,3}_)[A-Za-z0-9]{8,}")
# A Fernet token: version byte 0x80 and a 64-bit timestamp whose top bytes are zero.
_FERNET = re.compile(r"gAAAAA[A-Za-z0-9_-]{20,}={0,2}")
# A JWT (App Bridge ID tokens, Shopify session tokens) wherever it stands: header.payload.sig.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")
_HEADER_SECRETS = [
    re.compile(r"(Klaviyo-API-Key\s+)[^\s\"',]+", re.IGNORECASE),
    re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
    re.compile(r"(Basic\s+)[A-Za-z0-9+/=]{8,}", re.IGNORECASE),
    re.compile(rf"((?<![A-Za-z0-9_-])[\"']?(?:{'|'.join(SECRET_NAMES)})[\"']?\s*[:=]\s*[\"']?)"
               r"(?!\[redacted\])[^\s\"',;&}\]]+", re.IGNORECASE),
]
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9%+-])[A-Za-z0-9._%+-]*"
                    r"(@|%40)((?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})")
_PHONE = re.compile(r"(?<![\w+])\+\d{4,11}(\d{4})\b")
_NAMES = "|".join(URL_SECRET_PARAMS)
_URL_SECRETS = [
    # ?token=… / &signature=… / a query that starts with the parameter (QUERY_STRING alone).
    re.compile(rf"((?:^|[?&;\s\"'])(?:{_NAMES})=)[^&;\s\"']*", re.IGNORECASE),
    # The same inside a percent-encoded URL: %3Ftoken%3D… up to the next encoded `&`.
    re.compile(rf"((?:%3F|%26)(?:{_NAMES})%3D)(?:(?!%26)[^&;\s\"'])*", re.IGNORECASE),
]


def redact(text: str) -> str:
    """Replace credentials in free text; Klaviyo keys keep only their last four characters."""
    text = _KEY.sub(lambda m: f"pk_…{m.group(0)[-4:]}", text)
    text = _SHOPIFY_TOKEN.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _FERNET.sub(REDACTED, text)
    text = _JWT.sub(REDACTED, text)
    for pattern in (*_HEADER_SECRETS, *_URL_SECRETS):
        text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return text


def redact_log(text: str) -> str:
    """`redact`, then shoppers' emails and phone numbers masked (what a log line may keep)."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}…{m.group(2)}{m.group(3)}", redact(text))
    return _PHONE.sub(lambda m: f"+…{m.group(1)}", text)


#: A mapping key that says its (string) value is a credential, whatever the value looks like.
_SECRET_KEY = re.compile(r"token|secret|password|passwd|private_key|api_key|authorization|"
                         r"cookie|signature|hmac|dsn|credential|session", re.IGNORECASE)


def redact_deep(value: Any) -> Any:
    """`redact_log` applied to every string inside dicts, lists and tuples (keys included);
    a string under a key that names a credential (`_SECRET_KEY`) is replaced whole."""
    if isinstance(value, str):
        return redact_log(value)
    if isinstance(value, dict):
        return {redact_deep(k): REDACTED if isinstance(k, str) and isinstance(v, str | bytes)
                and _SECRET_KEY.search(k) else redact_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_deep(item) for item in value]
    if isinstance(value, tuple):  # a plain tuple even for a namedtuple (whose fields differ)
        return tuple(redact_deep(item) for item in value)
    return value


def redact_value(value: Any) -> Any:
    return redact_log(value) if isinstance(value, str) else value


#: Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName", *("request_id", "job_id", "shop")}
_TRACEBACKS = logging.Formatter()


class RedactSecretsFilter(logging.Filter):
    """Masks secrets (and shoppers' contacts, `redact_log`) in a record's message, arguments,
    `extra` fields, traceback and stack; keeps the record's args when it can (formatters such
    as Django's ServerFormatter read them).

    The traceback is rendered here, before any formatter sees the record, and the formatter
    then prints this redacted text: an exception whose message holds a key (`str(exc)` is in
    the last line of the traceback) never reaches a handler's output as it was."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a call whose arguments do not fit its format: print
            # both, redacted, rather than raise out of the caller's `logger.info(...)`
            message = f"{record.msg} {record.args!r}"
            record.msg, record.args = message, None
        cleaned = redact_log(message)
        if cleaned != message:
            self._scrub(record, cleaned)
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_log(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_log(record.stack_info)
        for name, value in vars(record).items():
            if name not in _STANDARD and isinstance(value, str | dict | list | tuple):
                setattr(record, name, redact_deep(value))
        return True

    @staticmethod
    def _scrub(record: logging.LogRecord, cleaned: str) -> None:
        if isinstance(record.msg, str) and isinstance(record.args, tuple):
            record.msg = redact_log(record.msg)
            record.args = tuple(redact_value(arg) for arg in record.args)
            try:
                if record.getMessage() == cleaned:
                    return
            except (TypeError, ValueError):
                pass
        record.msg, record.args = cleaned, None
