"""Writes for the Klaviyo connection: connect, reconnect, change list, re-test, halt, disconnect.

Contract shared with the sync engine and the dashboard:
- A key is verified (scopes + list) *before* anything is saved; a refused key raises
  `ConnectionRefused` and leaves any previous connection exactly as it was (so a reconnect keeps
  the old key working until the new one verifies).
- Only `CONNECTED` connections sync. "Merchant must act" failures at sync time go through
  `connection_halt` (→ `NEEDS_ATTENTION`, the sentence from messages.py); nothing is deleted.
- Every successful connect/reconnect/resume fires `hooks.connection_resumed` on commit (the
  domains registered there resume their pending work).
- The key is never logged, never put in an exception message, never passed to a job.
"""

from __future__ import annotations

import logging

import requests
from django.db import transaction
from django.utils import timezone

from integrations.klaviyo import hooks
from integrations.klaviyo.attempts import attempt_recorder as attempt_recorder
from integrations.klaviyo.attempts import verification_recorder
from integrations.klaviyo.client import KlaviyoClient, Observer
from integrations.klaviyo.errors import KlaviyoError, KlaviyoScopeError
from integrations.klaviyo.flows import flow_forget
from integrations.klaviyo.messages import sentence_for
from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt
from integrations.klaviyo.scopes import (
    ALL_REQUIRED,
    ConnectionRefused,
    key_clean,
    key_verify,
    list_id_clean,
    list_resolve,
)
from integrations.klaviyo.scopes import DEFAULT_LIST_NAME as DEFAULT_LIST_NAME
from notifyme.core import crypto
from notifyme.shops.models import Shop

logger = logging.getLogger(__name__)

#: Kinds that a list change (rather than a new key) fixes.
LIST_KINDS = frozenset({"not_found", "list_not_found"})

def client_for(
    connection: KlaviyoConnection, *, session: requests.Session | None = None,
    observer: Observer | None = None,
) -> KlaviyoClient:
    """A client with the connection's decrypted key (raises SecretDecryptionError if unreadable)."""
    return KlaviyoClient(connection.get_private_key(), session=session, observer=observer)


def connection_connect(
    *, shop: Shop, private_key: str, list_id: str | None = None
) -> KlaviyoConnection:
    """Verify `private_key` (format, account, every scope, the list), then store it encrypted.

    Raises ConnectionRefused (kind, sentence, missing_scopes) on any failure, before any write.
    Without `list_id`: keep the previous list of the same account, else find "Back in Stock",
    else create it.
    """
    key = key_clean(private_key)
    wanted_list = list_id_clean(list_id)
    client = KlaviyoClient(key, observer=verification_recorder(shop=shop))
    previous = KlaviyoConnection.objects.filter(shop=shop).first()
    try:
        verified = key_verify(client=client)
        same_account = previous is not None and previous.account_id == verified.account_id
        chosen_id, chosen_name = list_resolve(
            client=client, list_id=wanted_list,
            fallback_list_id=previous.list_id if previous and same_account else "",
        )
    except KlaviyoError as error:
        raise ConnectionRefused.from_error(error) from None
    now = timezone.now()
    with transaction.atomic():
        connection, _ = KlaviyoConnection.objects.select_for_update().get_or_create(shop=shop)
        connection.set_private_key(key)
        connection.account_id = verified.account_id
        connection.account_name = verified.account_name
        connection.list_id, connection.list_name = chosen_id, chosen_name
        connection.scopes_verified = verified.all_scopes
        connection.verified_at = connection.connected_at = now
        connection.status = KlaviyoConnection.Status.CONNECTED
        connection.disconnected_at = None
        _clear_error(connection)
        connection.save()
        hooks.connection_resumed_on_commit(shop_id=shop.pk)
    logger.info("klaviyo connected shop=%s account=%s key=%s", shop.domain,
                verified.account_id, connection.key_display)
    return connection


def connection_disconnect(*, shop: Shop) -> None:
    """Stop syncing and forget the key. Subscribers and pending outbox work are kept."""
    with transaction.atomic():
        connection = KlaviyoConnection.objects.select_for_update().filter(shop=shop).first()
        if connection is None:
            return
        connection.clear_private_key()
        connection.status = KlaviyoConnection.Status.DISCONNECTED
        connection.disconnected_at = timezone.now()
        _clear_error(connection)
        flow_forget(connection)
        connection.save()
    logger.info("klaviyo disconnected shop=%s", shop.domain)


def connection_halt(*, connection: KlaviyoConnection, error: KlaviyoError) -> None:
    """Sync-time 401/403/deleted list: pause this shop (NEEDS_ATTENTION) and say why. No deletes."""
    _set_error(connection, kind=error.kind, message=sentence_for(error), error_id=error.error_id)
    if connection.status == KlaviyoConnection.Status.CONNECTED:
        connection.status = KlaviyoConnection.Status.NEEDS_ATTENTION
    if isinstance(error, KlaviyoScopeError):
        _scopes_lost(connection, error.missing_scopes, checked=False)
    connection.save(update_fields=[
        "status", "last_error_kind", "last_error_message", "last_error_at", "last_error_id",
        "scopes_verified", "updated_at",
    ])
    logger.warning("klaviyo sync halted shop_id=%s kind=%s", connection.shop_id, error.kind)


def connection_record_error(*, connection: KlaviyoConnection, error: KlaviyoError) -> None:
    """Remember a passing error (rate limit, outage) for the dashboard; status is unchanged."""
    _set_error(connection, kind=error.kind, message=sentence_for(error), error_id=error.error_id)
    connection.save(update_fields=[
        "last_error_kind", "last_error_message", "last_error_at", "last_error_id", "updated_at"
    ])


def connection_record_success(*, connection: KlaviyoConnection) -> None:
    """A batch went through: `last_sync_at = now` (one cheap UPDATE)."""
    now = timezone.now()
    KlaviyoConnection.objects.filter(pk=connection.pk).update(last_sync_at=now, updated_at=now)
    connection.last_sync_at = now


def connection_retest(*, shop: Shop) -> KlaviyoConnection:
    """Re-verify the stored key and list now. Pass → CONNECTED (backlog resumes); a failure the
    merchant must fix → NEEDS_ATTENTION; a passing outage changes nothing. Raises ConnectionRefused
    on any failure (after recording it)."""
    connection = _connected_or_refuse(shop)
    client = connection_client(connection=connection)
    client.observer = verification_recorder(shop=shop)
    try:
        verified = key_verify(client=client)
        if connection.list_id:
            _, connection.list_name = list_resolve(client=client, list_id=connection.list_id)
    except KlaviyoError as error:
        raise _refused_and_recorded(connection, ConnectionRefused.from_error(error)) from None
    except ConnectionRefused as refused:
        raise _refused_and_recorded(connection, refused) from None
    connection.account_name = verified.account_name or connection.account_name
    connection.scopes_verified = verified.all_scopes
    connection.verified_at = timezone.now()
    _resume(connection)
    return connection


def connection_list_set(
    *, shop: Shop, list_id: str | None = None, create_name: str | None = None
) -> KlaviyoConnection:
    """Point the connection at an existing list (verified) or at a newly created one."""
    connection = _connected_or_refuse(shop)
    client = connection_client(connection=connection)
    client.observer = attempt_recorder(shop=shop, purpose=SyncAttempt.Purpose.CONNECT)
    try:
        if create_name:  # reuse a list of that name: creation is capped at 150/day
            existing = client.get_lists(name=create_name)
            found = existing[0] if existing else client.create_list(create_name)
            connection.list_id, connection.list_name = str(found["id"]), create_name
        else:
            wanted = list_id_clean(list_id)
            if not wanted:
                raise ConnectionRefused("list_invalid_format")
            connection.list_id, connection.list_name = list_resolve(client=client, list_id=wanted)
    except KlaviyoError as error:
        raise ConnectionRefused.from_error(error) from None
    if connection.last_error_kind in LIST_KINDS:
        _resume(connection)
    else:
        connection.save()
    return connection


def connection_client(*, connection: KlaviyoConnection) -> KlaviyoClient:
    """`client_for` for merchant-initiated calls: an unreadable stored key (encryption keys
    changed) halts the connection and raises ConnectionRefused("decrypt_failed")."""
    try:
        return client_for(connection)
    except crypto.SecretDecryptionError:
        refused = ConnectionRefused("decrypt_failed")
        _halt_refused(connection, refused)
        raise refused from None


# -- helpers ------------------------------------------------------------------------------------


def _connected_or_refuse(shop: Shop) -> KlaviyoConnection:
    connection = KlaviyoConnection.objects.filter(shop=shop).select_related("shop").first()
    if connection is None or not connection.has_key:
        raise ConnectionRefused("not_connected", "Klaviyo is not connected yet: paste your "
                                "private API key to connect.")
    return connection


def _resume(connection: KlaviyoConnection) -> None:
    was_syncing = connection.is_syncing
    connection.status = KlaviyoConnection.Status.CONNECTED
    _clear_error(connection)
    with transaction.atomic():
        connection.save()
        if not was_syncing:
            hooks.connection_resumed_on_commit(shop_id=connection.shop_id)


def _refused_and_recorded(
    connection: KlaviyoConnection, refused: ConnectionRefused
) -> ConnectionRefused:
    if refused.halts_sync:
        _halt_refused(connection, refused)
    else:
        _set_error(connection, kind=refused.kind, message=refused.sentence,
                   error_id=refused.error_id)
        connection.save()
    return refused


def _halt_refused(connection: KlaviyoConnection, refused: ConnectionRefused) -> None:
    _set_error(connection, kind=refused.kind, message=refused.sentence, error_id=refused.error_id)
    if refused.missing_scopes:
        _scopes_lost(connection, refused.missing_scopes, checked=True)
    if connection.status == KlaviyoConnection.Status.CONNECTED:
        connection.status = KlaviyoConnection.Status.NEEDS_ATTENTION
    connection.save()


def _scopes_lost(connection: KlaviyoConnection, missing: list[str], *, checked: bool) -> None:
    """Keep `scopes_verified` truthful: drop scopes Klaviyo just said the key lacks."""
    lost = set(missing)
    known = ALL_REQUIRED if checked else (connection.scopes_verified or ALL_REQUIRED)
    connection.scopes_verified = [s for s in known if s not in lost]
    if checked:  # every scope was probed just now: the list is complete
        connection.verified_at = timezone.now()


def _set_error(connection: KlaviyoConnection, *, kind: str, message: str, error_id: str) -> None:
    connection.last_error_kind = kind[:32]
    connection.last_error_message = message
    connection.last_error_at = timezone.now()
    connection.last_error_id = (error_id or "")[:64]


def _clear_error(connection: KlaviyoConnection) -> None:
    connection.last_error_kind = ""
    connection.last_error_message = ""
    connection.last_error_at = None
    connection.last_error_id = ""
