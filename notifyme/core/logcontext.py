"""What every log line says about where it came from: request id, RQ job id, shop domain.

One context variable holds an immutable mapping. `scope(...)` (the request-id middleware, the RQ
worker around each job) starts a fresh one and restores the previous mapping when it ends, so a
shop bound inside one request or job never leaks into the next one run by the same thread or
worker; outside a scope `bind` does nothing (sweeper and command lines name no shop unless the code
opens a scope of its own). `bind_shop(domain)` adds the shop where the code first knows it for sure
(a verified ID token, a signed proxy request or webhook, a job's Klaviyo or Shopify client).
`ContextFilter` copies the mapping onto every record as `request_id`, `job_id` and `shop` (empty
when unknown), for the formatters (notifyme/core/logformat.py).
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType

FIELDS = ("request_id", "job_id", "shop")
_EMPTY: Mapping[str, str] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "notifyme_log_context", default=_EMPTY)

#: An incoming `X-Request-ID` is kept only when it looks like an id (a load balancer's uuid or
#: trace id), never free text that could forge log content or smuggle a secret into every line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")


def sane_request_id(raw: str | None) -> str:
    """`raw` when it is a plausible id, else a new random one (32 hex characters)."""
    if raw and _SANE_REQUEST_ID.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def current() -> Mapping[str, str]:
    """The bound fields (a read-only mapping; missing fields are unknown)."""
    return _context.get()


@contextmanager
def scope(**fields: str) -> Iterator[None]:
    """Run the block with exactly `fields` bound (nothing inherited), then restore."""
    token = _context.set(MappingProxyType({k: v for k, v in fields.items() if v}))
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: str) -> None:
    """Add `fields` to the current scope (until the scope ends). Outside any scope (the
    sweeper's loop, a management command, a test) this does nothing: there is no end at which
    to forget it, and a shop left bound would label every later line of the process wrongly."""
    if _context.get() is _EMPTY:
        return
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v}}
    _context.set(MappingProxyType(merged))


def bind_shop(domain: str) -> None:
    """The shop this request or job is about (its myshopify domain)."""
    if domain:
        bind(shop=domain)


class ContextFilter(logging.Filter):
    """Sets `request_id`, `job_id` and `shop` on every record ("" when unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        bound = _context.get()
        for name in FIELDS:
            if not getattr(record, name, ""):
                setattr(record, name, bound.get(name, ""))
        return True
