"""Shopify's request signatures, computed exactly as Shopify computes them.

App proxy (`signature`): hex HMAC-SHA256 over the decoded query pairs sorted by key, each as
`key=value` (repeated keys joined with ","), concatenated with no separator.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping


def app_proxy_message(params: Mapping[str, list[str]]) -> str:
    return "".join(
        sorted(f"{key}={','.join(values)}" for key, values in params.items() if key != "signature")
    )


def app_proxy_signature(params: Mapping[str, list[str]], secret: str) -> str:
    message = app_proxy_message(params).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_matches(expected_hex: str, candidates: Iterable[str]) -> bool:
    """Constant-time comparison against each accepted signature."""
    return any(hmac.compare_digest(expected_hex, candidate) for candidate in candidates)
