"""Shopify's webhook signatures, computed exactly as Shopify computes them (platform notes §4).

`X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(app secret, the raw body bytes)) — base64, not
hex, over the exact bytes received (before any JSON parsing: re-serialising changes them).
During a secret rotation Shopify may sign with the previous secret for up to an hour, so
`webhook_signature_valid` accepts `SHOPIFY_API_SECRET`, then `SHOPIFY_API_SECRET_OLD`.
Comparisons are constant time.

(Written by helper "webhooks" to the contract in INTERFACES.md; the helper "client" owns this
module and adds the OAuth query signatures here.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings


def webhook_signature(body: bytes, secret: str) -> str:
    """The `X-Shopify-Hmac-Sha256` value Shopify sends for `body` signed with `secret`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def webhook_signature_valid(body: bytes, header: str | None) -> bool:
    """Is `header` the signature of `body` under the app secret (or the previous one)?

    A missing or empty header, or no secret configured, is never valid.
    """
    if not header:
        return False
    given = header.strip().encode("ascii", "replace")
    secrets = [s for s in (settings.SHOPIFY_API_SECRET, settings.SHOPIFY_API_SECRET_OLD) if s]
    # Every secret is tried (no early exit), so the timing does not tell which one matched.
    matched = False
    for secret in secrets:
        expected = webhook_signature(body, secret).encode("ascii")
        matched |= hmac.compare_digest(expected, given)
    return matched
