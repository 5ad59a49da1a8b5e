"""Encryption of stored secrets (Klaviyo private keys, Shopify access tokens).

Each secret is encrypted with MultiFernet over `NOTIFYME_ENCRYPTION_KEYS` (newest first), but
never with a master key directly: every master key is first stretched with HKDF into a key for
one *context* (for example ``shop:42:klaviyo_private_key``). A ciphertext copied to another
shop's row therefore fails to decrypt for that shop instead of leaking the first shop's key.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretDecryptionError(Exception):
    """The ciphertext does not decrypt for this context with any configured key."""


def _derive(master_key: str, context: str) -> Fernet:
    try:
        raw = base64.urlsafe_b64decode(master_key.encode())
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("NOTIFYME_ENCRYPTION_KEYS holds an invalid Fernet key") from exc
    if len(raw) != 32:
        raise ImproperlyConfigured("NOTIFYME_ENCRYPTION_KEYS holds an invalid Fernet key")
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"notifyme-secrets", info=context.encode()
    ).derive(raw)
    return Fernet(base64.urlsafe_b64encode(derived))


@lru_cache(maxsize=4096)
def _fernet_for(keys: tuple[str, ...], context: str) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("NOTIFYME_ENCRYPTION_KEYS is empty")
    return MultiFernet([_derive(key, context) for key in keys])


def _current(context: str) -> MultiFernet:
    return _fernet_for(tuple(settings.NOTIFYME_ENCRYPTION_KEYS), context)


def encrypt(plaintext: str, *, context: str) -> str:
    """Encrypt under the newest key for `context`; returns an ASCII token."""
    return _current(context).encrypt(plaintext.encode()).decode()


def decrypt(token: str, *, context: str) -> str:
    """Decrypt a token made by `encrypt` for the same context with any configured key."""
    try:
        return _current(context).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError(f"secret does not decrypt for {context}") from exc


def rotate(token: str, *, context: str) -> str:
    """Re-encrypt a token under the newest key (idempotent for tokens already on it)."""
    try:
        return _current(context).rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError(f"secret does not decrypt for {context}") from exc


def fingerprint(plaintext: str) -> str:
    """A short, non-reversible id of a secret for support ("is it the same key?")."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"notifyme-fingerprint:" + plaintext.encode())
    return digest.finalize().hex()[:12]
