"""Identifier formats Klaviyo uses: 26-char ULIDs for profiles and jobs, 6-char ids elsewhere."""

from __future__ import annotations

import secrets
import string
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ALNUM = string.ascii_letters + string.digits


def ulid() -> str:
    """A 26-character ULID (48-bit millisecond time + 80 random bits, Crockford base32)."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def short_id(length: int = 6) -> str:
    """A case-sensitive alphanumeric id like Klaviyo's list, metric and account ids (`Y6nRLr`)."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def private_key() -> str:
    """A private key shaped like Klaviyo's: `pk_` + 34 hex characters (37 in total)."""
    return "pk_" + secrets.token_hex(17)


def mask_key(key: str | None) -> str:
    """`pk_…abcd`: the only form of a key that may leave the in-memory key table."""
    if not key:
        return ""
    prefix = key[:3] if key.startswith("pk_") else ""
    return f"{prefix}…{key[-4:]}"


def now_iso() -> str:
    """Klaviyo's datetime format: `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`."""
    return datetime.now(UTC).isoformat()
