"""The error catalogue: every error kind the app knows, with one explanation and one fix.

`entry(source, kind)` is the one place support code turns an error kind into words. The *fix*
is the merchant-facing sentence of `integrations.klaviyo.messages` / `integrations.shopify.
messages` wherever one exists (a merchant and a support engineer read the same fix, written
once); the catalogue adds the *explanation* for support: what happened, how to confirm it, and
what support itself can do. Kinds that no merchant sentence covers (webhook intake, shop
states, phone issues) get their fix here. `tests/support/test_catalogue.py` walks every kind the
error classes and sentence tables define, so a new kind without an entry fails the suite.

Sources: "klaviyo" (SyncAttempt.error_kind, connection errors, ConnectionRefused kinds),
"shopify" (ShopifyError kinds), "webhook" (`webhook_kind` of a WebhookEvent's last error),
"shop" (install and authorization states of a Shop).
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.klaviyo import messages as klaviyo_messages
from integrations.shopify import messages as shopify_messages

SOURCES = ("klaviyo", "shopify", "webhook", "shop")


@dataclass(frozen=True)
class Entry:
    kind: str
    source: str
    title: str
    explanation: str
    fix: str
    anchor: str

    @property
    def url(self) -> str:
        return f"/support/errors/#{self.anchor}"


# (title, explanation for support). The fix comes from messages.py when it has the kind.
_KLAVIYO: dict[str, tuple[str, str]] = {
    "empty_key": ("No key pasted", "The merchant pressed Connect with an empty key field. "
                  "Nothing was sent to Klaviyo."),
    "public_key": ("Public key instead of private key", "The merchant pasted the 6-character "
                   "public key (site ID). It cannot call the private API; nothing was saved."),
    "invalid_format": ("Not a private key", "The pasted text is not shaped like a private key "
                       "(pk_ followed by letters and digits), often a truncated copy. Nothing "
                       "was sent to Klaviyo."),
    "invalid_key": ("Klaviyo key revoked or wrong", "Klaviyo answered 401 for the stored key: "
                    "it was revoked, disabled or deleted in the merchant's Klaviyo account. "
                    "The shop's sync is halted (needs attention); pending subscribers wait and "
                    "sync once a new key is connected."),
    "missing_scopes": ("Klaviyo key lacks a permission", "Klaviyo answered 403 "
                       "permission_denied naming the scopes the key lacks (the detail lists "
                       "them). Keys cannot be edited in Klaviyo, so the merchant must create a "
                       "new one. The sync is halted until then; nothing is lost."),
    "forbidden": ("Klaviyo refused the account", "A 403 that is not about scopes, usually a "
                  "feature the merchant's Klaviyo plan lacks. Quote the Klaviyo error id to "
                  "Klaviyo support if the merchant's plan should allow it."),
    "list_invalid_format": ("Not a list ID", "The merchant typed a list ID that cannot exist "
                            "(list IDs are 6 case-sensitive letters and digits)."),
    "list_not_found": ("Klaviyo list not found", "The list ID the merchant chose does not "
                       "exist in the account connected (deleted, or from another account)."),
    "not_found": ("Klaviyo list deleted", "Klaviyo answered 404 for the list the app syncs "
                  "to: it was deleted in Klaviyo. The sync is halted until a list is chosen; "
                  "pending subscribers are kept."),
    "klaviyo_unavailable": ("Klaviyo down (while connecting)", "Klaviyo did not answer (5xx, "
                            "timeout, rate limit) while the key was verified. Nothing was "
                            "saved; a retry in a minute usually works."),
    "unavailable": ("Klaviyo down", "5xx, timeout or connection failure. The pipeline retries "
                    "with backoff on its own; nothing is lost. Check status.klaviyo.com if it "
                    "lasts more than a few minutes."),
    "rate_limited": ("Rate limited (429)", "Klaviyo answered 429 for the account (all its keys "
                     "and integrations share the quota). Every worker waits out the announced "
                     "time (Retry-After or 'Expected available in N seconds'); the board shows "
                     "the current cool-down. Many 429s mean another integration shares the "
                     "account's quota."),
    "edge_blocked": ("Blocked at Klaviyo's edge", "An HTML 403 from Klaviyo's firewall (bot "
                     "challenge) before the request reached the account: not the key's fault. "
                     "Retried automatically; if it persists, the server's IP is blocked: "
                     "contact Klaviyo with the time."),
    "bad_request": ("Bad request (400)", "Klaviyo rejected the data of some records; the "
                    "pointer names the field (e.g. /data/attributes/phone_number). Those "
                    "records are failed alone and visible on the shopper's timeline; the rest "
                    "syncs. Fix the data (or the bug) and retry the failed records."),
    "duplicate_profile": ("Duplicate profile (409)", "The shopper's email and phone belong to "
                          "two different Klaviyo profiles, so Klaviyo cannot pick one. The "
                          "record is failed; once the merchant merges the profiles, retry it."),
    "decrypt_failed": ("Stored key unreadable", "The encrypted key no longer decrypts: "
                       "NOTIFYME_ENCRYPTION_KEYS changed without keeping the old key. Restore "
                       "the old key in the list (then rotate) or have the merchant reconnect."),
    "not_connected": ("Klaviyo not connected", "The shop never connected Klaviyo or "
                      "disconnected it. Signups are stored and wait; they sync once the "
                      "merchant connects a key."),
    "invalid_phone": ("Invalid phone number", "Klaviyo rejected the shopper's phone number "
                      "(not a valid mobile number for its country). The profile is synced "
                      "without the phone, so email alerts still go out; SMS cannot."),
    "invalid_email": ("Invalid email address", "Klaviyo rejected the shopper's email address "
                      "as invalid (the pointer names /data/attributes/email). The record is "
                      "failed alone; the merchant's other subscribers sync."),
    "phone_conflict": ("Phone belongs to another profile", "The phone number is already on "
                       "another Klaviyo profile. The profile is synced without it; merging "
                       "the two profiles in Klaviyo lets the phone be added."),
    "flow_not_live": ("Events accepted, no live flow", "Klaviyo accepted the shop's Back in "
                      "Stock events in the last 7 days, but no live flow is triggered by the "
                      "Back in Stock metric (none exists, or it is draft or manual), so no "
                      "shopper got an email. Checked hourly (the metric's flow triggers); the "
                      "merchant's Klaviyo flow panel shows the flows found and can create "
                      "one."),
    "revision_retiring": ("API revision retiring", "Klaviyo retires an API revision two years "
                          "after its release; calls pinned to it then fail for every "
                          "merchant. This is on our side, not the merchant's."),
    "unknown": ("Unexpected Klaviyo error", "An error the app does not classify. Read the "
                "call's status, code and detail on the timeline; report it to the developers."),
}
_KLAVIYO_FIXES: dict[str, str] = {
    "not_connected": "Connect Klaviyo in the app's settings: paste a private API key.",
    "invalid_phone": ("Ask the shopper for a valid mobile number with its country code (for "
                      "example +1 415 555 0100), or leave SMS out; email alerts are unaffected."),
    "invalid_email": ("Ask the shopper to sign up again with a working email address; then "
                      "retry their record."),
    "phone_conflict": ("Merge the two profiles in Klaviyo (Profiles → the profile → Merge), "
                       "then retry the subscriber's sync."),
    "revision_retiring": ("Upgrade KLAVIYO_REVISION (and the client code it requires) to a "
                          "current revision and deploy before the retirement date."),
}
_SHOPIFY: dict[str, tuple[str, str]] = {
    "invalid_signature": ("Shopify signature failed", "A request claiming to come from Shopify "
                          "(app proxy, admin link) had a missing or wrong HMAC, or an old "
                          "timestamp. Either a forged request or a stale link; if every "
                          "request fails, check SHOPIFY_API_SECRET."),
    "invalid_session": ("Session token expired", "The ID token the embedded app sent was "
                        "expired or for another app; the app bounces for a fresh one."),
    "needs_reauth": ("Shopify access lost", "The refresh token expired, was revoked or was "
                     "refused, so the app cannot call the Admin API: stock updates and "
                     "reconciliation stop. Only the merchant opening the app again fixes it."),
    "token_rejected": ("Access token rejected (401)", "The Admin API refused the access token; "
                       "the client refreshes it once and retries. Repeated: see needs_reauth."),
    "missing_scopes": ("Shopify scopes missing", "The granted access scopes do not cover what "
                       "the app needs (a scope was added in shopify.app.toml since install)."),
    "app_credentials": ("App credentials refused", "Shopify refused the app's client id or "
                        "secret: a deployment problem (SHOPIFY_API_KEY / SHOPIFY_API_SECRET), "
                        "affecting every shop."),
    "shop_locked": ("Store frozen or locked", "Shopify answered 402/423: the store is unpaid "
                    "or locked. Calls resume by themselves when the store is active again."),
    "unavailable": ("Shopify down", "5xx, timeout or connection failure from Shopify; retried "
                    "with backoff. Check shopifystatus.com if it lasts."),
    "throttled": ("Shopify throttled", "The shop's GraphQL cost bucket is empty (THROTTLED or "
                  "429); the app waits for it to refill. The board shows the bucket level."),
    "query_too_costly": ("Query too costly", "A query asked for more points than the shop's "
                         "bucket can hold: a bug on our side (page size); report it."),
    "graphql_errors": ("GraphQL errors", "Shopify answered with errors or userErrors for a "
                       "query: usually a bug or an API change on our side; report it."),
    "bulk_failed": ("Bulk export failed", "A bulk operation (catalog export) ended FAILED, "
                    "CANCELED or EXPIRED; the error code is Shopify's."),
    "bad_request": ("Shopify bad request", "Shopify refused a request as malformed (4xx): a "
                    "bug on our side; report it."),
    "unknown": ("Unexpected Shopify error", "An error the app does not classify; report it."),
}
_WEBHOOK: dict[str, tuple[str, str, str]] = {
    "invalid_signature": (
        "Webhook signature failed",
        "A POST to /webhooks/shopify had a missing or wrong X-Shopify-Hmac-Sha256: it was "
        "refused with 401 and not stored. If Shopify's own deliveries fail, the app secret was "
        "rotated without adding the previous one.",
        "Check SHOPIFY_API_SECRET (and SHOPIFY_API_SECRET_PREVIOUS during a rotation) matches "
        "the app's secret in the Partner dashboard."),
    "bad_payload": (
        "Webhook body unusable",
        "A signed delivery's body was not a JSON object, so it was stored as failed.",
        "Nothing to fix for the merchant; stock is corrected by the next reconciliation."),
    "handler_failed": (
        "Webhook processing failed",
        "The topic's handler raised; the event is failed alone with the exception's type and "
        "message, the other events go on.",
        "Report it to the developers with the event id; then re-run stock reconciliation for "
        "the shop so the stock it carried is applied."),
    "retries_exhausted": (
        "Webhook retries ran out",
        "The handler kept hitting a passing failure (Shopify or Redis down, throttled) until "
        "the retry budget ran out.",
        "Once the cause has passed, re-run stock reconciliation for the shop."),
    "needs_reauth": (
        "Webhook needed Shopify access",
        "Processing needed the Admin API but the shop's Shopify authorization is gone.",
        shopify_messages.sentence_for("needs_reauth")),
    "unknown": (
        "Webhook failed", "A webhook event failed for a reason the app does not classify.",
        "Read the event's last error in the admin; re-run reconciliation for the shop."),
}
_SHOP: dict[str, tuple[str, str, str]] = {
    "uninstalled": (
        "App uninstalled",
        "The merchant uninstalled the app (app/uninstalled webhook): tokens were forgotten and "
        "nothing syncs. Subscribers are kept until Shopify's shop/redact.",
        "Nothing to do unless the merchant wants it back: reinstalling from the Shopify App "
        "Store restores syncing."),
    "needs_reauth": (
        "Shopify authorization expired or revoked",
        "The shop's refresh token expired (90 days unused), was revoked or was refused: the "
        "app cannot read stock until the merchant opens it again.",
        shopify_messages.sentence_for("needs_reauth")),
    "no_grant": (
        "No Shopify token",
        "The shop is installed but holds no access or refresh token (the install's token "
        "exchange never completed).",
        shopify_messages.sentence_for("needs_reauth")),
    "refresh_expired": (
        "Shopify refresh token expired",
        "The stored refresh token is past its expiry: the next Admin API call will fail and "
        "mark the shop as needing re-authorization.",
        shopify_messages.sentence_for("needs_reauth")),
    "backlog_stalled": (
        "Backlog not moving",
        "Work rows are due but untouched for a while: the workers (rqworker) or the sweeper "
        "are not running, or Redis lost the queue and the sweeper is down.",
        "Check the RQ dashboard (/admin/rq/) for workers and queue depth; restart the workers "
        "and `manage.py sync_sweeper`. Nothing is lost: rows wait in the database."),
    "webhook_lag": (
        "Webhooks waiting",
        "Stored Shopify webhooks have waited long to be processed: stock changes reach the app "
        "late, so restocks start late.",
        "Check the webhooks queue on the RQ dashboard and that workers run; the sweeper "
        "re-nudges waiting events."),
}


def _build() -> dict[tuple[str, str], Entry]:
    table: dict[tuple[str, str], Entry] = {}

    def add(source: str, kind: str, title: str, explanation: str, fix: str) -> None:
        table[(source, kind)] = Entry(kind, source, title, explanation, fix, f"{source}-{kind}")

    for kind, (title, explanation) in _KLAVIYO.items():
        fix = _KLAVIYO_FIXES.get(kind) or klaviyo_messages.sentence_for(kind)
        add("klaviyo", kind, title, explanation, fix)
    for kind, (title, explanation) in _SHOPIFY.items():
        add("shopify", kind, title, explanation, shopify_messages.sentence_for(kind))
    for kind, (title, explanation, fix) in _WEBHOOK.items():
        add("webhook", kind, title, explanation, fix)
    for kind, (title, explanation, fix) in _SHOP.items():
        add("shop", kind, title, explanation, fix)
    return table


ENTRIES: dict[tuple[str, str], Entry] = _build()


def entry(source: str, kind: str) -> Entry:
    """The entry for (source, kind); never raises: an unknown kind gets its source's "unknown"
    entry (with the kind it was asked for), an unknown source a generic one."""
    found = ENTRIES.get((source, kind))
    if found is not None:
        return found
    fallback = ENTRIES.get((source, "unknown")) or ENTRIES[("klaviyo", "unknown")]
    return Entry(kind or "unknown", source, fallback.title, fallback.explanation, fallback.fix,
                 fallback.anchor)


def entries(source: str | None = None) -> list[Entry]:
    """Every entry (of one source), in catalogue order: by source, then as listed."""
    return [e for e in ENTRIES.values() if source is None or e.source == source]


def webhook_kind(last_error: str) -> str:
    """The catalogue kind of a failed WebhookEvent, from its `last_error` (written by
    `notifyme.webhooks.intake` / `processing`). Mirrors `board.WEBHOOK_KIND_SQL`."""
    text = last_error or ""
    if text.startswith("gave up after"):
        return "retries_exhausted"
    if text.startswith("ReauthRequired"):
        return "needs_reauth"
    if text.startswith("the body "):
        return "bad_payload"
    return "handler_failed" if text else "unknown"
