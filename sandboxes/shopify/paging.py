"""Connections (`first/after/last/before/reverse`, opaque cursors) and Shopify search syntax.

Contract:
- Outside bulk operations a connection needs `first` or `last` in 0..250 (Shopify's errors);
  inside a bulk operation (`unbounded`) every item is returned.
- Cursors are base64 of the item's sort key, so paging is stable while items are added.
- `query` strings: space-separated terms, all of which must match: `field:value`,
  `field:>value` (also `>=`, `<`, `<=`), `value*` prefix, quoted values, bare words (title).
  Unknown fields are ignored, as Shopify does.
"""

from __future__ import annotations

import base64
import bisect
import json
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import GraphQLError

MAX_PAGE = 250
_TERM = re.compile(r"^(?P<field>[a-z_]+):(?P<op>>=|<=|>|<)?(?P<value>.*)$")


def _cursor(key: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def _uncursor(cursor: str | None) -> tuple[Any, ...] | None:
    if not cursor:
        return None
    try:
        return tuple(json.loads(base64.urlsafe_b64decode(cursor.encode())))
    except (ValueError, TypeError):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor[:60]}",
                           extensions={"code": "BAD_REQUEST"}) from None


def page_size(args: dict[str, Any], unbounded: bool) -> None:
    if unbounded:
        return
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last",
                           extensions={"code": "BAD_REQUEST"})
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE:
            raise GraphQLError(f"The {name} argument must be between 0 and {MAX_PAGE}.",
                               extensions={"code": "BAD_REQUEST"})


def connection(items: Sequence[Any], args: dict[str, Any], view: Callable[[Any], Any], *,
               key: Callable[[Any], tuple[Any, ...]], unbounded: bool = False
               ) -> dict[str, Any]:
    """A Relay connection dict over `items` (any order; sorted here by `key`)."""
    page_size(args, unbounded)
    reverse = bool(args.get("reverse"))
    ordered = sorted(items, key=key, reverse=reverse)
    keys = [key(item) for item in ordered]

    def position(cursor_key: tuple[Any, ...]) -> int:
        # bisect over an ascending view: negate comparisons by flipping the list when reversed
        if not reverse:
            return bisect.bisect_right(keys, cursor_key)
        return len(keys) - bisect.bisect_left(keys[::-1], cursor_key)

    start, end = 0, len(ordered)
    after, before = _uncursor(args.get("after")), _uncursor(args.get("before"))
    if after is not None:
        start = position(after)
    if before is not None:
        end = max(start, position(before) - 1)  # the cursor's own item is excluded
    window = ordered[start:end]
    first, last = args.get("first"), args.get("last")
    has_next = has_previous = False
    if not unbounded and first is not None:
        has_next = len(window) > first or end < len(ordered)
        window = window[:first]
    elif not unbounded and last is not None:
        has_previous = len(window) > last or start > 0
        window = window[-last:] if last else []
    else:
        has_next = end < len(ordered)
    has_previous = has_previous or start > 0
    nodes = [view(item) for item in window]
    cursors = [_cursor(key(item)) for item in window]
    return {"__typename": "Connection",
            "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
            "nodes": nodes,
            "pageInfo": {"hasNextPage": has_next, "hasPreviousPage": has_previous,
                         "startCursor": cursors[0] if cursors else None,
                         "endCursor": cursors[-1] if cursors else None}}


@dataclass(frozen=True)
class Term:
    field: str
    op: str
    value: str


def parse_query(text: str | None) -> list[Term]:
    if not text:
        return []
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    terms = []
    for word in words:
        if word.upper() == "AND":
            continue
        match = _TERM.match(word)
        if match:
            terms.append(Term(match["field"], match["op"] or "=", match["value"].strip("'\"")))
        else:
            terms.append(Term("default", "=", word))
    return terms


def _compare(actual: Any, op: str, wanted: str) -> bool:
    if isinstance(actual, datetime):
        try:
            other: Any = datetime.fromisoformat(wanted.replace("Z", "+00:00"))
        except ValueError:
            return False
        if other.tzinfo is None:
            other = other.replace(tzinfo=actual.tzinfo)
    elif isinstance(actual, int):
        try:
            other = int(wanted.rsplit("/", 1)[-1])
        except ValueError:
            return False
    else:
        actual, other = str(actual).lower(), wanted.lower()
        if op == "=" and other.endswith("*"):
            return bool(actual.startswith(other[:-1]))
    if actual is None:
        return False
    return {"=": actual == other, ">": actual > other, ">=": actual >= other,
            "<": actual < other, "<=": actual <= other}[op]


def matches(terms: list[Term], fields: Callable[[str], Any]) -> bool:
    """All terms match; `fields(name)` returns the value (a list: any element) or KeyError."""
    for term in terms:
        try:
            actual = fields(term.field)
        except KeyError:
            continue  # unknown search field: ignored
        values = actual if isinstance(actual, list) else [actual]
        if term.field == "default":
            if not any(term.value.lower().rstrip("*") in str(v).lower() for v in values):
                return False
        elif not any(_compare(v, term.op, term.value) for v in values):
            return False
    return True
