"""One plain, merchant-facing sentence (with what to do) per Shopify error kind.

Keys are the `kind`s of `integrations.shopify.errors`; the app, the jobs' outcome lines and
support show the same words wherever the problem appears.
"""

from __future__ import annotations

from integrations.shopify.errors import MissingScopes, ShopifyError

SENTENCES: dict[str, str] = {
    "invalid_signature": (
        "This request did not come from Shopify, or its link expired. Open the app again from "
        "your Shopify admin."
    ),
    "invalid_session": (
        "Your Shopify session expired. Reload the app from your Shopify admin to continue."
    ),
    "needs_reauth": (
        "The app lost its access to your store (the authorization expired or was revoked). "
        "Open the app from your Shopify admin once to reconnect; stock updates resume then."
    ),
    "token_rejected": (
        "Shopify refused the app's access token. The app is renewing it; if this persists, open "
        "the app from your Shopify admin."
    ),
    "missing_scopes": (
        "The app is missing permissions it needs to read your store. Open the app from your "
        "Shopify admin and approve the requested access."
    ),
    "app_credentials": (
        "Shopify did not accept the app's own credentials. This is a problem on our side; "
        "please contact support."
    ),
    "shop_locked": (
        "Shopify reports your store as frozen or locked, so the app cannot read it. Syncing "
        "resumes by itself once the store is active again."
    ),
    "unavailable": (
        "Shopify is not responding right now. Nothing was lost; the app retries shortly."
    ),
    "throttled": (
        "Shopify asked the app to slow down (your store's API budget is in use). Nothing was "
        "lost; the app continues as soon as the budget refills."
    ),
    "query_too_costly": (
        "A request to Shopify was larger than your store's API budget allows. This is a problem "
        "on our side; please contact support."
    ),
    "graphql_errors": (
        "Shopify rejected a request from the app. This is a problem on our side; please contact "
        "support."
    ),
    "bulk_failed": (
        "Shopify could not finish exporting your catalog. Start the catalog sync again; if it "
        "fails again, contact support."
    ),
    "bad_request": (
        "Shopify rejected a request from the app. This is a problem on our side; please contact "
        "support."
    ),
    "unknown": (
        "Something went wrong talking to Shopify. Please try again in a minute; if it keeps "
        "happening, contact support."
    ),
}


def sentence_for(error_or_kind: ShopifyError | str) -> str:
    """The merchant-facing sentence for a ShopifyError or a kind (never raises)."""
    if isinstance(error_or_kind, MissingScopes) and error_or_kind.missing:
        return ("The app is missing the " + ", ".join(error_or_kind.missing) + " permission"
                + ("s" if len(error_or_kind.missing) > 1 else "") + ". Open the app from your "
                "Shopify admin and approve the requested access.")
    kind = error_or_kind.kind if isinstance(error_or_kind, ShopifyError) else str(error_or_kind)
    return SENTENCES.get(kind, SENTENCES["unknown"])
