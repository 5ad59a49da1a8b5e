"""connection_connect / reconnect / halt / retest / list choice against the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from integrations.klaviyo.errors import KlaviyoError
from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt
from integrations.klaviyo.services import (
    DEFAULT_LIST_NAME,
    ConnectionRefused,
    attempt_recorder,
    client_for,
    connection_connect,
    connection_disconnect,
    connection_halt,
    connection_list_set,
    connection_record_success,
    connection_retest,
)
from notifyme.shops.models import Shop

pytestmark = pytest.mark.django_db


def connect(shop: Shop, key: str, **kwargs: Any) -> KlaviyoConnection:
    return connection_connect(shop=shop, private_key=key, **kwargs)


def test_connect_stores_encrypted_key_account_and_default_list(
    shop: Shop, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str,
    django_capture_on_commit_callbacks: Any, nudges: list[int],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        connection = connect(shop, f"  {full_key} ")
    connection.refresh_from_db()
    assert connection.status == KlaviyoConnection.Status.CONNECTED
    assert connection.is_syncing
    assert connection.account_id == account["id"]
    assert connection.account_name == "Demo Outfitters Klaviyo"
    assert connection.key_display == f"pk_…{full_key[-4:]}"
    assert full_key not in connection.private_key_encrypted
    assert connection.get_private_key() == full_key
    assert connection.list_name == DEFAULT_LIST_NAME
    lists = klaviyo_sandbox.admin.lists(account["id"])
    assert [item["name"] for item in lists] == [DEFAULT_LIST_NAME]
    assert connection.list_id == lists[0]["id"]
    assert connection.verified_at and connection.connected_at
    assert nudges == [shop.pk]


def test_existing_back_in_stock_list_is_reused_not_created(
    shop: Shop, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    list_id = klaviyo_sandbox.admin.create_list(account["id"], DEFAULT_LIST_NAME)
    connection = connect(shop, full_key)
    assert connection.list_id == list_id
    assert len(klaviyo_sandbox.admin.lists(account["id"])) == 1
    # Reconnecting keeps the chosen list and creates nothing.
    connect(shop, full_key)
    assert len(klaviyo_sandbox.admin.lists(account["id"])) == 1


def test_connect_with_chosen_list(
    shop: Shop, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    list_id = klaviyo_sandbox.admin.create_list(account["id"], "VIP waitlist")
    connection = connect(shop, full_key, list_id=list_id)
    assert (connection.list_id, connection.list_name) == (list_id, "VIP waitlist")


def test_list_not_found(
    shop: Shop, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    other = klaviyo_sandbox.admin.create_account(name="Someone else")
    foreign_list = klaviyo_sandbox.admin.create_list(other["id"], "Theirs")
    for list_id in ("ZZZZZZ", foreign_list, foreign_list.swapcase()):
        with pytest.raises(ConnectionRefused) as refused:
            connect(shop, full_key, list_id=list_id)
        assert refused.value.code == "list_not_found"
    assert not KlaviyoConnection.objects.filter(shop=shop).exists()


def test_key_missing_profiles_write_is_never_connected(
    shop: Shop, klaviyo_sandbox: Any, key_without: Callable[..., str]
) -> None:
    with pytest.raises(ConnectionRefused) as refused:
        connect(shop, key_without("profiles:write"))
    assert refused.value.missing_scopes == ["profiles:write"]
    assert not KlaviyoConnection.objects.filter(shop=shop).exists()


def test_refusals_keep_the_previous_connection(
    shop: Shop, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str,
    key_without: Callable[..., str],
) -> None:
    connection = connect(shop, full_key)
    before = KlaviyoConnection.objects.values().get(pk=connection.pk)
    bad_keys = [key_without("profiles:write"), "pk_" + "f" * 34, "AbC123"]
    for bad in bad_keys:
        with pytest.raises(ConnectionRefused):
            connect(shop, bad)
    klaviyo_sandbox.admin.set_faults(account["id"], error_rate=1.0, error_statuses=[503])
    new_key = klaviyo_sandbox.admin.create_key(account["id"], "all")
    with pytest.raises(ConnectionRefused) as refused:
        connect(shop, new_key)
    assert refused.value.code == "klaviyo_unavailable"
    klaviyo_sandbox.admin.set_faults(account["id"], html_403_rate=1.0)
    with pytest.raises(ConnectionRefused) as refused:
        connect(shop, new_key)
    assert refused.value.kind == "edge_blocked"
    assert KlaviyoConnection.objects.values().get(pk=connection.pk) == before
    assert KlaviyoConnection.objects.get(pk=connection.pk).get_private_key() == full_key


def test_reconnect_replaces_key_only_after_the_new_one_verifies(
    shop: Shop, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    connect(shop, full_key)
    new_key = klaviyo_sandbox.admin.create_key(account["id"], "all")
    connection = connect(shop, new_key)
    assert connection.get_private_key() == new_key
    assert connection.key_display.endswith(new_key[-4:])


def test_lost_scope_halts_at_next_sync_and_reconnect_resumes(
    shop: Shop, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str,
    django_capture_on_commit_callbacks: Any, nudges: list[int],
) -> None:
    connection = connect(shop, full_key)
    klaviyo_sandbox.admin.set_key_scopes(
        full_key, [s for s in connection.scopes_verified if s != "profiles:write"]
    )
    # What the sync engine does on its next attempt:
    client = client_for(connection, observer=attempt_recorder(shop=shop, retry_count=0))
    with pytest.raises(KlaviyoError) as raised:
        client.upsert_profile({"email": "shopper@example.com"})
    assert raised.value.merchant_must_act
    connection_halt(connection=connection, error=raised.value)
    connection.refresh_from_db()
    assert connection.status == KlaviyoConnection.Status.NEEDS_ATTENTION
    assert not connection.is_syncing
    assert connection.last_error_kind == "missing_scopes"
    assert "profiles:write" in connection.last_error_message
    assert connection.get_private_key() == full_key  # nothing deleted
    attempt = SyncAttempt.objects.get(shop=shop, operation="profile_import")
    assert (attempt.status_code, attempt.error_kind) == (403, "missing_scopes")
    assert attempt.operation == "profile_import"

    assert nudges == []  # the connect above ran outside captured on-commit callbacks
    good_key = klaviyo_sandbox.admin.create_key(account["id"], "all")
    with django_capture_on_commit_callbacks(execute=True):
        connection = connect(shop, good_key)
    assert connection.status == KlaviyoConnection.Status.CONNECTED
    assert connection.last_error_kind == ""
    assert nudges == [shop.pk]


def test_retest_halts_then_resumes(
    shop: Shop, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str,
    django_capture_on_commit_callbacks: Any, nudges: list[int],
) -> None:
    connect(shop, full_key)
    klaviyo_sandbox.admin.set_key_scopes(full_key, ["accounts:read"])
    with pytest.raises(ConnectionRefused) as refused:
        connection_retest(shop=shop)
    assert refused.value.code == "missing_scopes"
    connection = KlaviyoConnection.objects.get(shop=shop)
    assert connection.status == KlaviyoConnection.Status.NEEDS_ATTENTION
    klaviyo_sandbox.admin.set_key_scopes(full_key, "all")
    with django_capture_on_commit_callbacks(execute=True):
        connection = connection_retest(shop=shop)
    assert connection.status == KlaviyoConnection.Status.CONNECTED
    assert nudges == [shop.pk]


def test_retest_during_outage_changes_nothing(
    shop: Shop, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    connect(shop, full_key)
    klaviyo_sandbox.admin.set_faults(account["id"], error_rate=1.0, error_statuses=[503])
    with pytest.raises(ConnectionRefused) as refused:
        connection_retest(shop=shop)
    assert refused.value.code == "klaviyo_unavailable"
    connection = KlaviyoConnection.objects.get(shop=shop)
    assert connection.status == KlaviyoConnection.Status.CONNECTED
    assert connection.last_error_kind == "klaviyo_unavailable"


def test_deleted_list_halts_and_choosing_a_list_resumes(
    shop: Shop, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str
) -> None:
    connection = connect(shop, full_key)
    klaviyo_sandbox.admin.delete_list(account["id"], connection.list_id)
    with pytest.raises(ConnectionRefused) as refused:
        connection_retest(shop=shop)
    assert refused.value.code == "list_not_found"
    assert KlaviyoConnection.objects.get(shop=shop).status == "needs_attention"
    connection = connection_list_set(shop=shop, create_name="Restock alerts")
    assert connection.status == KlaviyoConnection.Status.CONNECTED
    assert connection.list_name == "Restock alerts"
    with pytest.raises(ConnectionRefused) as refused:
        connection_list_set(shop=shop, list_id="NoSuch")
    assert refused.value.code == "list_not_found"


def test_disconnect_forgets_key_but_keeps_work(
    shop: Shop, klaviyo_sandbox: Any, full_key: str
) -> None:
    connection = connect(shop, full_key)
    connection_record_success(connection=connection)
    connection_disconnect(shop=shop)
    connection.refresh_from_db()
    assert connection.status == KlaviyoConnection.Status.DISCONNECTED
    assert connection.private_key_encrypted == "" and connection.key_display == ""
    assert connection.last_sync_at is not None
    with pytest.raises(ConnectionRefused) as refused:
        connection_retest(shop=shop)
    assert refused.value.code == "not_connected"


def test_verification_calls_are_logged_without_false_errors(
    shop: Shop, klaviyo_sandbox: Any, full_key: str, key_without: Callable[..., str]
) -> None:
    connect(shop, full_key)
    probes = SyncAttempt.objects.filter(shop=shop, operation__startswith="verify_")
    assert probes.count() == 10 and not probes.exclude(error_kind="").exists()
    assert {a.status_code for a in probes} <= {200, 400, 404}
    with pytest.raises(ConnectionRefused):
        connect(shop, key_without("profiles:write"))
    failed = SyncAttempt.objects.filter(shop=shop, error_kind="missing_scopes")
    assert sorted(failed.values_list("operation", "status_code")) == [
        # optional: missing, but never refuse a key
        ("verify_data_privacy_write", 403), ("verify_flows_read", 403),
        ("verify_flows_write", 403), ("verify_metrics_read", 403),
        ("verify_profiles_write", 403), ("verify_subscriptions_write", 403)]


def test_halt_on_disconnected_connection_keeps_it_disconnected(
    shop: Shop, klaviyo_sandbox: Any, full_key: str
) -> None:
    connection = connect(shop, full_key)
    connection_disconnect(shop=shop)
    connection.refresh_from_db()
    connection_halt(connection=connection, error=KlaviyoError(status=401))
    connection.refresh_from_db()
    assert connection.status == KlaviyoConnection.Status.DISCONNECTED


def test_unreadable_stored_key_needs_attention(
    shop: Shop, klaviyo_sandbox: Any, full_key: str, settings: Any
) -> None:
    from cryptography.fernet import Fernet

    connect(shop, full_key)
    settings.NOTIFYME_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key is lost
    for call in (lambda: connection_retest(shop=shop),
                 lambda: connection_list_set(shop=shop, list_id="ABCdef")):
        with pytest.raises(ConnectionRefused) as refused:
            call()
        assert (refused.value.code, refused.value.kind) == ("invalid_key", "decrypt_failed")
    connection = KlaviyoConnection.objects.get(shop=shop)
    assert connection.status == KlaviyoConnection.Status.NEEDS_ATTENTION
    assert "Reconnect" in connection.last_error_message


def test_overlong_key_is_refused_before_any_request(shop: Shop) -> None:
    with pytest.raises(ConnectionRefused) as refused:
        connect(shop, "pk_" + "a" * 200)
    assert refused.value.kind == "invalid_format"
