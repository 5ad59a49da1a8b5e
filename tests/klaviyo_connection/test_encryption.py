"""Keys at rest: encrypted, bound to their shop, rotatable to a new master key (resumably)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.services import connection_connect
from notifyme.core import crypto
from notifyme.shops.models import Shop
from notifyme.shops.services import shop_install


@pytest.fixture(autouse=True)
def no_shopify_grant(shop: Shop, other_shop: Shop) -> None:
    """The factory's Shopify grant is encrypted under the development key: these tests count
    only the secrets they write under their own keys."""
    Shop.objects.update(access_token_encrypted="", refresh_token_encrypted="")


pytestmark = pytest.mark.django_db

KEY_A = "pk_" + "a1b2" * 8 + "c3d"
KEY_B = "pk_" + "9f8e" * 8 + "7d6"


@pytest.fixture(autouse=True)
def sandbox_keys(klaviyo_sandbox: Any) -> None:
    """KEY_A and KEY_B are real keys of two sandbox accounts, so connecting verifies them."""
    for name, key in (("Account A", KEY_A), ("Account B", KEY_B)):
        account = klaviyo_sandbox.admin.create_account(name)
        klaviyo_sandbox.admin.create_key(account["id"], "all", key=key)


def store(shop: Shop, key: str) -> KlaviyoConnection:
    """The merchant connects `key` (verified, then stored encrypted)."""
    return connection_connect(shop=shop, private_key=key)


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_encryption_keys", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_key_is_encrypted_with_display_and_fingerprint(shop: Shop) -> None:
    connection = store(shop, KEY_A)
    raw = KlaviyoConnection.objects.values_list("private_key_encrypted", flat=True).get()
    assert KEY_A not in raw and KEY_A[-4:] == connection.key_last4
    assert connection.key_display == f"pk_…{KEY_A[-4:]}"
    assert connection.key_fingerprint == crypto.fingerprint(KEY_A)
    assert KlaviyoConnection.objects.get().get_private_key() == KEY_A


def test_ciphertext_copied_to_another_shop_does_not_decrypt(shop: Shop, other_shop: Shop) -> None:
    stolen = store(shop, KEY_A).private_key_encrypted
    victim = store(other_shop, KEY_B)
    # Someone with write access to the database copies shop A's ciphertext onto shop B.
    KlaviyoConnection.objects.filter(pk=victim.pk).update(private_key_encrypted=stolen)
    victim.refresh_from_db()
    with pytest.raises(crypto.SecretDecryptionError) as raised:
        victim.get_private_key()
    assert KEY_A not in str(raised.value)


def test_rotation_then_old_key_removed(shop: Shop, other_shop: Shop, settings: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.NOTIFYME_ENCRYPTION_KEYS = [old]
    store(shop, KEY_A)
    store(other_shop, KEY_B)
    shop_install(domain=shop.domain, access_token="shpat_secret_token_1")
    settings.NOTIFYME_ENCRYPTION_KEYS = [new, old]
    before = list(KlaviyoConnection.objects.order_by("pk").values_list(
        "private_key_encrypted", flat=True))

    dry = rotate("--dry-run")
    assert "would rotate 3, already current 0, failed 0" in dry
    assert list(KlaviyoConnection.objects.order_by("pk").values_list(
        "private_key_encrypted", flat=True)) == before

    out = rotate("--batch-size", "1")
    assert "rotated 3, already current 0, failed 0" in out
    assert "[##############################] 2/2" in out  # the progress bar reached the end
    assert KEY_A not in out and "shpat_" not in out
    # Resumable / idempotent: a second run finds everything current.
    assert "rotated 0, already current 3, failed 0" in rotate()

    settings.NOTIFYME_ENCRYPTION_KEYS = [new]  # the old key is gone
    assert KlaviyoConnection.objects.get(shop=shop).get_private_key() == KEY_A
    assert KlaviyoConnection.objects.get(shop=other_shop).get_private_key() == KEY_B
    assert Shop.objects.get(pk=shop.pk).get_access_token() == "shpat_secret_token_1"


def test_partly_rotated_run_resumes(shop: Shop, other_shop: Shop, settings: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.NOTIFYME_ENCRYPTION_KEYS = [old]
    store(shop, KEY_A)
    store(other_shop, KEY_B)
    settings.NOTIFYME_ENCRYPTION_KEYS = [new, old]
    # An interrupted earlier run got as far as the first row.
    first = KlaviyoConnection.objects.get(shop=shop)
    first.private_key_encrypted = crypto.rotate(first.private_key_encrypted,
                                                context=first.key_context)
    first.save()
    assert "rotated 1, already current 1, failed 0" in rotate()


def test_undecryptable_rows_are_reported_and_left_alone(shop: Shop, settings: Any) -> None:
    stranger = Fernet.generate_key().decode()
    settings.NOTIFYME_ENCRYPTION_KEYS = [stranger]
    store(shop, KEY_A)
    settings.NOTIFYME_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    raw = KlaviyoConnection.objects.get().private_key_encrypted
    with pytest.raises(CommandError, match="1 secret"):
        rotate()
    assert KlaviyoConnection.objects.get().private_key_encrypted == raw
