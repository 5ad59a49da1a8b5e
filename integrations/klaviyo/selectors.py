"""Reads for the Klaviyo connection: the status document the page, the API and support share
(this package knows no domain model: `notifyme.sync.selectors.sync_status` adds the
subscribers' part).

Nothing here writes, and nothing here ever returns the key: only `key_display` (`pk_…abcd`) and
the fingerprint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.klaviyo.errors import KlaviyoError
from integrations.klaviyo.messages import sentence_for
from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt
from integrations.klaviyo.scopes import ALL_REQUIRED, ConnectionRefused
from integrations.klaviyo.services import connection_client
from notifyme.shops.models import Shop

STATUS_MESSAGES = {
    KlaviyoConnection.Status.CONNECTED: "Subscribers are syncing to your Klaviyo list.",
    KlaviyoConnection.Status.DISCONNECTED: (
        "New subscribers wait here until you connect. Paste a Klaviyo private API key below "
        "to start syncing."
    ),
}

#: Support paused this shop's sync (`integrations.klaviyo.pausing`): shown instead of the status.
PAUSED_LABEL = "Paused by support"
PAUSED_MESSAGE = ("Paused by support: new subscribers and alerts wait here and nothing is sent "
                  "to Klaviyo until support resumes the sync. Contact support for details.")

#: Calls made to connect/verify/choose a list: they prove nothing about syncing subscribers.
CONNECTION_OPERATIONS = ("get_accounts", "get_lists", "get_list", "create_list")


def connection_for_shop(*, shop: Shop) -> KlaviyoConnection | None:
    return KlaviyoConnection.objects.filter(shop=shop).first()


def errors_settled_at(connection: KlaviyoConnection | None) -> datetime | None:
    """When the merchant last settled the connection: a good connect or reconnect
    (`connected_at`), a disconnect (`disconnected_at`) or a passing re-test (`verified_at`
    while connected). Errors from before that are history for support (the call log, the
    shopper timeline), not something to show the merchant again. `verified_at` counts only
    while connected: a failed re-test that lost scopes sets it too (with NEEDS_ATTENTION)."""
    if connection is None:
        return None
    times = [connection.connected_at, connection.disconnected_at]
    if connection.status == KlaviyoConnection.Status.CONNECTED:
        times.append(connection.verified_at)
    known = [t for t in times if t]
    return max(known) if known else None


def last_error(*, shop: Shop, connection: KlaviyoConnection | None) -> dict[str, Any] | None:
    """The newest of the connection's recorded error and the newest failed outbound call
    since the merchant last settled the connection (`errors_settled_at`)."""
    candidates: list[dict[str, Any]] = []
    if connection and connection.last_error_at:
        candidates.append({
            "kind": connection.last_error_kind, "message": connection.last_error_message,
            "at": connection.last_error_at, "klaviyo_error_id": connection.last_error_id,
        })
    failed = SyncAttempt.objects.filter(shop=shop).exclude(error_kind="")
    settled = errors_settled_at(connection)
    if settled is not None:
        failed = failed.filter(created_at__gt=settled)
    attempt = failed.order_by("-created_at").first()
    if attempt is not None:
        candidates.append({
            "kind": attempt.error_kind, "message": sentence_for(attempt.error_kind),
            "at": attempt.created_at, "klaviyo_error_id": attempt.klaviyo_error_id,
        })
    return max(candidates, key=lambda item: item["at"]) if candidates else None


def last_success(*, shop: Shop, connection: KlaviyoConnection | None) -> datetime | None:
    """When Klaviyo last accepted a call for this shop: `connection.last_sync_at` (set by
    `connection_record_success`) or the newest successful SyncAttempt, whichever is newer."""
    times = [connection.last_sync_at] if connection and connection.last_sync_at else []
    attempt = (SyncAttempt.objects.filter(shop=shop, error_kind="", status_code__lt=300)
               .exclude(operation__in=CONNECTION_OPERATIONS)
               .exclude(operation__startswith="verify_")
               .order_by("-created_at").values_list("created_at", flat=True).first())
    if attempt is not None:
        times.append(attempt)
    return max(times) if times else None


def connection_status(*, shop: Shop, iso: bool = True) -> dict[str, Any]:
    """The connection's part of the status document (`GET /app/api/klaviyo`); datetimes as
    ISO 8601 strings (or as datetimes with `iso=False`, for templates). The domains add their
    part (`notifyme.sync.selectors.sync_status` adds the subscriber counts)."""

    def _iso(value: datetime | None) -> str | datetime | None:
        return (value.isoformat() if iso else value) if value else None

    connection = connection_for_shop(shop=shop)
    status = connection.status if connection else KlaviyoConnection.Status.DISCONNECTED
    label = KlaviyoConnection.Status(status).label
    if status == KlaviyoConnection.Status.NEEDS_ATTENTION and connection:
        message = connection.last_error_message or sentence_for(connection.last_error_kind)
    else:
        message = STATUS_MESSAGES[KlaviyoConnection.Status(status)]
    paused = bool(connection and connection.paused)
    if paused:
        label, message = PAUSED_LABEL, PAUSED_MESSAGE
    error = last_error(shop=shop, connection=connection)
    last_sync = last_success(shop=shop, connection=connection)
    if error:
        # A passing error (a 429 waited out, an outage) that Klaviyo has since answered past —
        # a later accepted sync or a later successful verification — is shown as resolved, not
        # as a current problem (support still sees what it was).
        recovered = [t for t in (last_sync, connection and connection.verified_at) if t]
        resolved = (status != KlaviyoConnection.Status.NEEDS_ATTENTION
                    and any(t > error["at"] for t in recovered))
        error = {**error, "at": _iso(error["at"]), "resolved": resolved}
    document: dict[str, Any] = {
        "shop": shop.domain,
        "status": status,
        "status_label": label,
        "status_message": message,
        "syncing": bool(connection and connection.is_syncing),
        "paused": paused,
        "paused_at": _iso(connection.paused_at) if connection and paused else None,
        "account": None,
        "key": None,
        "key_fingerprint": None,
        "list": None,
        "scopes_verified": [],
        "scopes_required": list(ALL_REQUIRED),
        "verified_at": None,
        "connected_at": None,
        "last_sync_at": _iso(last_sync),
        "last_error": error,
    }
    if connection is not None and connection.has_key:
        document.update({
            "account": {"id": connection.account_id, "name": connection.account_name},
            "key": connection.key_display,
            "key_fingerprint": connection.key_fingerprint,
            "list": {"id": connection.list_id, "name": connection.list_name}
            if connection.list_id else None,
            "scopes_verified": list(connection.scopes_verified),
            "verified_at": _iso(connection.verified_at),
            "connected_at": _iso(connection.connected_at),
        })
    return document


def klaviyo_lists(*, shop: Shop, limit_pages: int = 10) -> list[dict[str, str]]:
    """The account's lists (id, name), sorted by name; raises ConnectionRefused when Klaviyo
    cannot be asked (not connected, outage, bad key)."""
    connection = connection_for_shop(shop=shop)
    if connection is None or not connection.has_key:
        raise ConnectionRefused("not_connected", "Connect Klaviyo first to choose a list.")
    client = connection_client(connection=connection)
    try:
        raw = client.iter_lists(max_pages=limit_pages)
    except KlaviyoError as error:
        raise ConnectionRefused.from_error(error) from None
    lists = [{"id": str(item.get("id")), "name": str((item.get("attributes") or {}).get("name"))}
             for item in raw]
    return sorted(lists, key=lambda item: item["name"].lower())
