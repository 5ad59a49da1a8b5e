"""One plain, merchant-facing sentence (with the fix) per Klaviyo error kind.

Used by the settings page, the JSON API, the sync engine (`connection_halt`) and support, so a
merchant reads the same words wherever the problem shows up. Keys of `SENTENCES` are the `kind`s of
`integrations.klaviyo.errors` plus the connection-time kinds raised by `scopes.py`.
"""

from __future__ import annotations

from collections.abc import Iterable

from integrations.klaviyo.errors import KlaviyoError, KlaviyoScopeError

KEY_HOWTO = (
    "In Klaviyo, go to Settings → Account → API keys → Create Private API Key and choose "
    "Full Access, or a Custom key with Profiles, Lists, Events and Subscriptions set to Full "
    "Access (You cannot edit a key after it is created), then paste the new key here."
)

SENTENCES: dict[str, str] = {
    "empty_key": "Paste your Klaviyo private API key (it starts with pk_).",
    "public_key": (
        "That looks like your Klaviyo public key (site ID), which cannot sync data. Paste a "
        "private API key instead: it starts with pk_. " + KEY_HOWTO
    ),
    "invalid_format": (
        "That is not a Klaviyo private API key: private keys start with pk_ and contain only "
        "letters and numbers. Copy the whole key from Klaviyo → Settings → API keys."
    ),
    "invalid_key": (
        "Klaviyo did not accept this API key: it is wrong, revoked or disabled. Create a new "
        "private key in Klaviyo (Settings → API keys) and reconnect with it."
    ),
    "missing_scopes": (
        "This Klaviyo API key is missing permissions the app needs, so subscribers cannot sync. "
        + KEY_HOWTO
    ),
    "forbidden": (
        "Klaviyo refused this request for your account (a feature of your Klaviyo plan may be "
        "missing). Check your Klaviyo plan, or contact support with the error id."
    ),
    "list_invalid_format": (
        "That is not a Klaviyo list ID: list IDs are 6 letters and numbers, like Y6nRLr, and are "
        "case-sensitive. Copy it from the list's settings page in Klaviyo."
    ),
    "list_not_found": (
        "That Klaviyo list does not exist in this account (it may have been deleted). Choose "
        "another list, or let the app create a \"Back in Stock\" list."
    ),
    "not_found": (
        "Klaviyo could not find the list the app syncs to (it may have been deleted). Choose "
        "another list on this page to resume syncing."
    ),
    "klaviyo_unavailable": (
        "Klaviyo is not responding right now. Nothing was changed; please try again in a minute."
    ),
    "unavailable": (
        "Klaviyo is not responding right now. Nothing was changed; please try again in a minute."
    ),
    "rate_limited": (
        "Klaviyo is busy and asked us to slow down. Nothing was changed; please try again in a "
        "minute."
    ),
    "edge_blocked": (
        "Klaviyo's firewall blocked the request before it reached your account (not a problem "
        "with your key). Nothing was changed; please try again in a few minutes."
    ),
    "bad_request": (
        "Klaviyo rejected some subscriber data as invalid. Those subscribers are marked as "
        "failed; everyone else keeps syncing."
    ),
    "duplicate_profile": (
        "A subscriber's email and phone belong to two different Klaviyo profiles. That "
        "subscriber is marked as failed; merge the profiles in Klaviyo to fix it."
    ),
    "decrypt_failed": (
        "The saved Klaviyo key can no longer be read (encryption keys changed). Reconnect with "
        "your private API key."
    ),
    "flow_not_live": (
        "Klaviyo accepts your Back in Stock events, but no live flow sends them as emails, so "
        "shoppers are not notified. In Klaviyo, open Flows, find the flow triggered by the "
        "Back in Stock metric (or create it from this app's Klaviyo flow panel) and set it live."
    ),
    "unknown": (
        "Something went wrong talking to Klaviyo. Please try again in a minute; if it keeps "
        "happening, contact support."
    ),
}


def scopes_phrase(scopes: Iterable[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    items = [s for s in scopes if s]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def sentence_for(
    error_or_kind: KlaviyoError | str, *, missing_scopes: Iterable[str] | None = None
) -> str:
    """The merchant-facing sentence for a KlaviyoError or an error kind (never raises).

    For `missing_scopes` the sentence names each missing scope (from the error itself, or from
    `missing_scopes` when given).
    """
    if isinstance(error_or_kind, KlaviyoError):
        kind = error_or_kind.kind
        if missing_scopes is None and isinstance(error_or_kind, KlaviyoScopeError):
            missing_scopes = error_or_kind.missing_scopes
    else:
        kind = str(error_or_kind or "unknown")
    if kind == "missing_scopes":
        scopes = sorted(set(missing_scopes or []))
        if scopes:
            noun = "permission" if len(scopes) == 1 else "permissions"
            return (
                f"This Klaviyo API key is missing the {scopes_phrase(scopes)} {noun}, so "
                f"subscribers cannot sync. {KEY_HOWTO}"
            )
    return SENTENCES.get(kind, SENTENCES["unknown"])
