"""Optional error reporting to Sentry, with the log redaction applied to everything it sends.

On only when `SENTRY_DSN` is set (settings call `sentry_setup`); `sentry-sdk` is the optional
extra `notifyme[sentry]`, and a DSN without the package refuses to start (ImproperlyConfigured)
rather than run silently without the reporting the operator asked for.

What leaves the process goes through `before_send` / `before_breadcrumb` (and
`before_send_transaction` when tracing is on): every string of the event — message and its
params, exception values, stack-frame local variables, breadcrumbs, request URL, query string,
body, extra, contexts, tags — passes `redact_deep` (notifyme/core/logging.py: Klaviyo keys,
Shopify and Fernet tokens, bearer / basic credentials, signed-URL parameters, shoppers' emails
and phones); a value under a key that names a credential (`Authorization`, `Cookie`,
`X-Shopify-Hmac-Sha256`, a local called `token` or `private_key`) is replaced whole; request
cookies are dropped. `send_default_pii` stays off, so Sentry adds no IP, user or cookie itself.
The integrations sentry-sdk enables for what is installed (Django, RQ, logging: ERROR lines
become events, INFO lines breadcrumbs) need no list here.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from notifyme.core import logcontext
from notifyme.core.logging import REDACTED, redact_deep, redact_log

Event = dict[str, Any]


def _request(request: dict[str, Any]) -> dict[str, Any]:
    cleaned = redact_deep({k: v for k, v in request.items() if k != "cookies"})
    if "cookies" in request:
        cleaned["cookies"] = REDACTED
    return cleaned


def before_send(event: Event, hint: dict[str, Any] | None = None) -> Event:
    """The event with every string redacted and request cookies dropped (module docstring),
    tagged with the log context (`request_id`, `job_id`, `shop`) of the request or job that
    raised it, so an event leads to its log lines. (Sentry calls this synchronously, in the
    thread that captured the event.)"""
    cleaned: Event = redact_deep(event)
    if isinstance(event.get("request"), dict):
        cleaned["request"] = _request(event["request"])
    context = logcontext.current()
    if context:
        tags = cleaned.get("tags")
        cleaned["tags"] = {**(tags if isinstance(tags, dict) else {}), **context}
    return cleaned


def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None
                      ) -> dict[str, Any]:
    cleaned: dict[str, Any] = redact_deep(crumb)
    if isinstance(cleaned.get("message"), str):
        cleaned["message"] = redact_log(cleaned["message"])
    return cleaned


def sentry_setup(*, dsn: str, environment: str, release: str = "",
                 traces_sample_rate: float = 0.0) -> bool:
    """Start Sentry when `dsn` is set; False (and nothing done) when it is empty."""
    if not dsn:
        return False
    try:
        import sentry_sdk  # the optional extra: imported only when a DSN asks for it
    except ImportError as missing:
        raise ImproperlyConfigured(
            "SENTRY_DSN is set but sentry-sdk is not installed: "
            "pip install 'notifyme[sentry]' (or unset SENTRY_DSN)") from missing
    sentry_sdk.init(
        dsn=dsn, environment=environment, release=release or None,
        send_default_pii=False, traces_sample_rate=traces_sample_rate,
        before_send=before_send,  # type: ignore[arg-type]
        before_send_transaction=before_send,  # type: ignore[arg-type]
        before_breadcrumb=before_breadcrumb,  # type: ignore[arg-type]
    )
    return True
