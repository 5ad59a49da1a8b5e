"""The explanation and fix support shows next to an error on the shopper timeline.

The words come from the error catalogue (`notifyme.support.catalogue.entry`), the one source
support reads; this module adds the record-level view the timeline needs (`record_kind`): a
400 that points at a phone number is an invalid phone, not a bad request in general, and its
fix differs.
"""

from __future__ import annotations

from notifyme.support.catalogue import Entry, entry

Explanation = Entry


def record_kind(*, kind: str, pointer: str) -> str:
    """The finest kind for one Klaviyo error: `invalid_phone` / `invalid_email` when a bad
    request points at that field, else `kind` itself."""
    if kind == "bad_request" and pointer.endswith("/phone_number"):
        return "invalid_phone"
    if kind == "bad_request" and pointer.endswith("/email"):
        return "invalid_email"
    return kind


def explain(*, source: str, kind: str) -> Entry:
    """What an error `kind` from `source` ("klaviyo" | "shopify" | "webhook" | "shop") means
    and what fixes it (the catalogue's entry). Never raises: an unknown kind gets its source's
    generic entry."""
    return entry(source, kind)
