"""Identifier formats Klaviyo uses: 26-char ULIDs for profiles and jobs, 6-char ids elsewhere."""

from __future__ import annotations

import os
import secrets
import string
import threading
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ALNUM = string.ascii_letters + string.digits


#: A random byte -> the Crockford digit of its low 5 bits (each of the 16 random characters of
#: a ULID carries 5 of its 80 random bits).
_DIGIT_OF_BYTE = bytes(_CROCKFORD.encode()[b & 31] for b in range(256))
_RANDOM = threading.local()
_BATCH = 4096
_MILLISECOND: tuple[int, str] = (-1, "")


def _random_bytes(count: int) -> bytes:
    """`count` bytes from the OS's CSPRNG, read in batches (one syscall per 4,096 ids, not per
    id: a 100,000-profile backlog creates 100,000 ids). Per thread, so no lock."""
    pool: bytes = getattr(_RANDOM, "pool", b"")
    pos: int = getattr(_RANDOM, "pos", 0)
    if pos + count > len(pool):
        pool, pos = os.urandom(count * _BATCH), 0
        _RANDOM.pool = pool
    _RANDOM.pos = pos + count
    return pool[pos:pos + count]


def _forget_random() -> None:
    global _RANDOM
    _RANDOM = threading.local()  # a forked child must never reuse its parent's unread bytes


os.register_at_fork(after_in_child=_forget_random)


def ulid() -> str:
    """A 26-character ULID: 48-bit millisecond time (10 Crockford digits, formatted once per
    millisecond) + 80 random bits (16 digits, one table lookup per random byte: the sandbox
    makes one per new profile, and base64's pure-Python base32 was its largest single cost
    while a backlog created 100,000 of them)."""
    global _MILLISECOND
    millis = time.time_ns() // 1_000_000
    cached, prefix = _MILLISECOND
    if millis != cached:
        prefix = "".join(_CROCKFORD[(millis >> shift) & 31] for shift in range(45, -1, -5))
        _MILLISECOND = (millis, prefix)
    return prefix + _random_bytes(16).translate(_DIGIT_OF_BYTE).decode()


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


_SECOND: tuple[int, str] = (-1, "")


def now_iso() -> str:
    """Klaviyo's datetime format: `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`.

    The date and time of day are formatted once per second (a bulk request stamps thousands of
    profiles and events; formatting each from a datetime was 5 % of the sandbox's CPU)."""
    global _SECOND
    micros = time.time_ns() // 1000
    second, fraction = divmod(micros, 1_000_000)
    cached_second, prefix = _SECOND
    if second != cached_second:
        prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _SECOND = (second, prefix)
    return f"{prefix}.{fraction:06d}+00:00"
