from __future__ import annotations

import pytest
from django.test import Client, override_settings

from notifyme.core import crypto
from tests.factories import shop_make

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_redis(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_healthz_names_redis_when_it_is_down(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"] == "unreachable"
    assert response.json()["database"] == "ok"


def test_secret_bound_to_its_shop_does_not_decrypt_for_another() -> None:
    first, second = shop_make("a-shop.myshopify.com"), shop_make("b-shop.myshopify.com")
    first.set_access_token("shpat_secret")
    assert first.get_access_token() == "shpat_secret"
    second.access_token_encrypted = first.access_token_encrypted
    with pytest.raises(crypto.SecretDecryptionError):
        second.get_access_token()


def test_rotation_keeps_old_ciphertexts_readable_and_moves_them_to_the_new_key() -> None:
    old_key = "ZGV2LW9ubHktbm90aWZ5bWUtZW5jcnlwdGlvbi1rZXk="
    new_key = "bmV3LW5vdGlmeW1lLWVuY3J5cHRpb24ta2V5LTAwMDA="
    with override_settings(NOTIFYME_ENCRYPTION_KEYS=[old_key]):
        token = crypto.encrypt("pk_x", context="c")
    with override_settings(NOTIFYME_ENCRYPTION_KEYS=[new_key, old_key]):
        assert crypto.decrypt(token, context="c") == "pk_x"
        rotated = crypto.rotate(token, context="c")
    with override_settings(NOTIFYME_ENCRYPTION_KEYS=[new_key]):
        assert crypto.decrypt(rotated, context="c") == "pk_x"
        with pytest.raises(crypto.SecretDecryptionError):
            crypto.decrypt(token, context="c")
