"""Klaviyo's JSON pointers back to the records of the request that caused them.

Klaviyo validates a bulk request all-or-nothing and names each bad record with
`errors[].source.pointer`, e.g. `/data/attributes/profiles/data/3/attributes/email` or
`/data/attributes/events-bulk-create/data/12/attributes/profile/data/attributes/email`. `base`
is the list's path in the body (`/data/attributes/profiles/data`); the number after it is the
index of the entry in the request, which the caller maps to its own row.
"""

from __future__ import annotations

import re
from functools import lru_cache

from integrations.klaviyo.errors import KlaviyoError

PROFILES = "/data/attributes/profiles/data"
EVENTS = "/data/attributes/events-bulk-create/data"
#: A base no pointer can match: for single-record requests, where any 400 is the record's.
NONE = "/data/attributes/__none__"


@lru_cache(maxsize=32)
def _pattern(base: str) -> re.Pattern[str]:
    return re.compile(re.escape(base.rstrip("/")) + r"/(\d+)(/.*)?$")


def index_of(pointer: str, base: str) -> int | None:
    """`base/<i>/...` -> i; None when the pointer names no entry of that list."""
    match = _pattern(base).match(pointer or "")
    return int(match.group(1)) if match else None


def pointed_indexes(error: KlaviyoError, base: str) -> dict[int, tuple[str, str]]:
    """{entry index: (pointer, detail)} for the error items pointing inside `base/<i>`
    (the first item per entry wins)."""
    found: dict[int, tuple[str, str]] = {}
    for item in error.errors:
        index = index_of(item.pointer or "", base)
        if index is not None:
            found.setdefault(index, (item.pointer, item.detail or item.title))
    return found
