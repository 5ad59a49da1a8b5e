"""Cells safe to open in a spreadsheet: every CSV the app writes guards its cells here.

A cell starting with one of `FORMULA_START` would be run as a formula by Excel, Numbers or
Sheets (OWASP "CSV injection"); shopper input and Shopify's product titles are not ours to trust,
so such a cell gets a leading apostrophe (shown as text, not run). `cell_unguard` is the inverse
for our own files coming back in (a re-imported export round-trips).
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_guard(value: object) -> str:
    """The cell as text, with a leading apostrophe when it would start a formula; None is
    empty."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def cell_unguard(value: str) -> str:
    """The inverse of `cell_guard` on import."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value
