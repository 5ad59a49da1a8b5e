"""The HTTP plumbing every Shopify call shares: one keep-alive session per process, timeouts,
exception scrubbing and token masking (no token or secret ever reaches a log or an error)."""

from __future__ import annotations

import os

import requests
from django.conf import settings

_session: tuple[int, requests.Session] | None = None
CONNECT_TIMEOUT = 3.05


def shared_session() -> requests.Session:
    """One session per process (keyed by pid: a forked work horse must not share its parent's
    connections)."""
    global _session
    if _session is None or _session[0] != os.getpid():
        _session = (os.getpid(), requests.Session())
    return _session[1]


def timeouts(read: float | None = None) -> tuple[float, float]:
    """(connect, read) seconds for one call: `SHOPIFY_TIMEOUT_SECONDS` unless given."""
    total = float(read or settings.SHOPIFY_TIMEOUT_SECONDS)
    return (min(CONNECT_TIMEOUT, total), total)


def mask_token(token: str | None) -> str:
    """`shpat_…abcd`: the token's prefix and last four characters, for logs and reprs."""
    if not token:
        return "(none)"
    prefix = token.split("_", 1)[0] + "_" if "_" in token[:8] else ""
    return f"{prefix}…{token[-4:]}" if len(token) > 12 else f"{prefix}…"


def scrub(exc: requests.RequestException) -> requests.RequestException:
    """requests' exceptions can carry the prepared request (headers with the token, a form
    with the secret): drop it before the exception travels anywhere."""
    exc.request = None
    exc.response = None
    return exc
