"""Support admin: connections show `pk_…abcd` only; attempts are read-only and searchable."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from integrations.klaviyo.errors import KlaviyoError
from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt
from integrations.klaviyo.services import attempt_recorder, client_for, connection_connect
from notifyme.shops.models import Shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected(shop: Shop, klaviyo_sandbox: Any, account: dict[str, Any],
              full_key: str) -> KlaviyoConnection:
    connection = connection_connect(shop=shop, private_key=full_key)
    klaviyo_sandbox.admin.set_key_scopes(full_key, ["accounts:read"])
    with pytest.raises(KlaviyoError):
        client_for(connection, observer=attempt_recorder(shop=shop)).upsert_profile(
            {"email": "a@example.com"})
    return connection


def test_connection_admin(admin_client: Client, connected: KlaviyoConnection,
                          full_key: str) -> None:
    listing = admin_client.get("/admin/klaviyo/klaviyoconnection/?q=demo-shop&status=connected")
    page = listing.content.decode()
    assert listing.status_code == 200 and connected.key_display in page
    change = admin_client.get(f"/admin/klaviyo/klaviyoconnection/{connected.pk}/change/")
    html = change.content.decode()
    assert "private_key_encrypted" not in html and connected.private_key_encrypted not in html
    assert full_key not in html and connected.key_display in html
    assert admin_client.get("/admin/klaviyo/klaviyoconnection/add/").status_code == 403


def test_attempt_admin_is_read_only_and_filterable(admin_client: Client,
                                                   connected: KlaviyoConnection) -> None:
    attempt = SyncAttempt.objects.get(error_kind="missing_scopes")
    for query in ("?error_kind=missing_scopes", "?operation=profile_import",
                  "?status_code=403", "?q=demo-shop"):
        response = admin_client.get(f"/admin/klaviyo/syncattempt/{query}")
        assert response.status_code == 200 and "profile_import" in response.content.decode()
    change = admin_client.get(f"/admin/klaviyo/syncattempt/{attempt.pk}/change/")
    assert change.status_code == 200 and 'type="submit" value="Save"' not in change.content.decode()
    assert admin_client.post(f"/admin/klaviyo/syncattempt/{attempt.pk}/delete/").status_code == 403
