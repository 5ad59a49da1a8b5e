"""The explanation and fix support shows next to an error, in one place for the timeline.

This private adapter answers with the merchant sentences that exist today
(`integrations.klaviyo.messages.sentence_for`, `integrations.shopify.messages.sentence_for`);
the error catalogue (`notifyme.support.catalogue.entry(source, kind)`) is the one source of
these words, and the merger points `explain` at it, keeping this signature, so every page that
shows an error keeps asking here.

A few record-level kinds are finer than the client's classes (`record_kind`): a 400 that points
at a phone number is an invalid phone, not a bad request in general, and its fix differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.klaviyo import messages as klaviyo_messages
from integrations.shopify import messages as shopify_messages

#: Record-level kinds the merchant sentences do not have yet: kind → (explanation, fix).
_RECORD_KINDS: dict[str, tuple[str, str]] = {
    "invalid_phone": (
        "Klaviyo refused the shopper's phone number: it only takes numbers in international "
        "E.164 form, like +13239169023.",
        "Ask the shopper to sign up again with a valid mobile number or an email address; "
        "then retry their record.",
    ),
    "invalid_email": (
        "Klaviyo refused the shopper's email address as invalid.",
        "Ask the shopper to sign up again with a working email address; then retry their "
        "record.",
    ),
}


@dataclass(frozen=True)
class Explanation:
    kind: str
    source: str
    explanation: str
    fix: str


def record_kind(*, kind: str, pointer: str) -> str:
    """The finest kind for one Klaviyo error: `invalid_phone` / `invalid_email` when a bad
    request points at that field, else `kind` itself."""
    if kind == "bad_request" and pointer.endswith("/phone_number"):
        return "invalid_phone"
    if kind == "bad_request" and pointer.endswith("/email"):
        return "invalid_email"
    return kind


def explain(*, source: str, kind: str) -> Explanation:
    """What an error `kind` from `source` ("klaviyo" | "shopify" | "webhook" | "shop") means
    and what fixes it. Never raises: an unknown kind gets the generic sentence."""
    if kind in _RECORD_KINDS:
        explanation, fix = _RECORD_KINDS[kind]
        return Explanation(kind, source, explanation, fix)
    if source == "shopify":
        sentence = shopify_messages.sentence_for(kind)
    else:
        sentence = klaviyo_messages.sentence_for(kind)
    return Explanation(kind, source, sentence, sentence)
