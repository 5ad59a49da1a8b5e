"""Access and refresh tokens the stand-in issued, with Shopify's expiring-token rules.

Contract:
- Tokens are kept only as SHA-256 digests; nothing here can print one. `shpat_` + 32 hex
  (access), `shprt_` + 32 hex (refresh), like Shopify's.
- One refreshable token per app and shop: a new grant (token exchange, code) retires every
  earlier refresh token of the shop. Access tokens live until they expire (or uninstall).
- Refresh rotates: each refresh returns a new pair. The refresh token just used stays
  retryable (a lost response) until its replacement is first used, for at most 30 days; a retry
  retires the unused replacement. Expired, retired or superseded-and-replaced → `invalid_grant`.
- `stats(shop)` are counts and expiry times only.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field

RETRY_WINDOW = 30 * 86400


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class AccessRecord:
    shop: str
    scopes: str
    expires_at: float | None
    revoked: bool = False

    def valid(self, at: float) -> bool:
        return not self.revoked and (self.expires_at is None or at < self.expires_at)


@dataclass
class RefreshRecord:
    shop: str
    scopes: str
    expires_at: float
    used: bool = False  # presented at least once (so its predecessor is now dead)
    retired: bool = False
    successor: str | None = None  # digest of the refresh token it was exchanged for
    rotated_at: float | None = None


@dataclass
class Grant:
    access_token: str
    scope: str
    expires_in: int | None = None
    refresh_token: str | None = None
    refresh_token_expires_in: int | None = None

    def body(self) -> dict[str, object]:
        out: dict[str, object] = {"access_token": self.access_token, "scope": self.scope}
        if self.expires_in is not None:
            out["expires_in"] = self.expires_in
        if self.refresh_token is not None:
            out.update(refresh_token=self.refresh_token,
                       refresh_token_expires_in=self.refresh_token_expires_in)
        return out


@dataclass
class ShopTokenStats:
    issued: int = 0
    token_exchanges: int = 0
    code_grants: int = 0
    refreshes: int = 0
    refresh_failures: int = 0
    api_rejections: int = 0


class RefreshRefused(Exception):
    """`invalid_grant`, with Shopify-like wording in `args[0]`."""


class TokenBook:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.access: dict[str, AccessRecord] = {}
        self.refresh: dict[str, RefreshRecord] = {}
        self.counts: dict[str, ShopTokenStats] = {}

    def reset(self) -> None:
        with self.lock:
            self.access.clear()
            self.refresh.clear()
            self.counts.clear()

    def _stats(self, shop: str) -> ShopTokenStats:
        return self.counts.setdefault(shop, ShopTokenStats())

    def issue(self, shop: str, scopes: str, *, expiring: bool, access_ttl: int,
              refresh_ttl: int, kind: str) -> Grant:
        """A new grant (`kind`: "token_exchanges" | "code_grants"); retires older refreshers."""
        with self.lock:
            for record in self.refresh.values():
                if record.shop == shop:
                    record.retired = True
            stats = self._stats(shop)
            setattr(stats, kind, getattr(stats, kind) + 1)
            return self._pair(shop, scopes, expiring, access_ttl, refresh_ttl)

    def _pair(self, shop: str, scopes: str, expiring: bool, access_ttl: int,
              refresh_ttl: int) -> Grant:
        at = time.time()
        access = "shpat_" + secrets.token_hex(16)
        self.access[digest(access)] = AccessRecord(
            shop, scopes, at + access_ttl if expiring else None)
        self._stats(shop).issued += 1
        if not expiring:
            return Grant(access, scopes)
        refresh = "shprt_" + secrets.token_hex(16)
        self.refresh[digest(refresh)] = RefreshRecord(shop, scopes, at + refresh_ttl)
        return Grant(access, scopes, access_ttl, refresh, refresh_ttl)

    def rotate(self, shop: str, refresh_token: str, *, access_ttl: int,
               refresh_ttl: int) -> Grant:
        """Refresh; raises RefreshRefused (→ 400 invalid_grant)."""
        with self.lock:
            key = digest(refresh_token)
            record = self.refresh.get(key)
            try:
                self._check_refresh(shop, record)
            except RefreshRefused:
                self._stats(shop).refresh_failures += 1
                raise
            assert record is not None
            if record.successor is not None:  # a retry: the unused replacement is retired
                self.refresh[record.successor].retired = True
            record.used = True
            grant = self._pair(shop, record.scopes, True, access_ttl, refresh_ttl)
            assert grant.refresh_token is not None
            record.successor = digest(grant.refresh_token)
            record.rotated_at = record.rotated_at or time.time()
            self._stats(shop).refreshes += 1
            return grant

    def _check_refresh(self, shop: str, record: RefreshRecord | None) -> None:
        at = time.time()
        if record is None or record.shop != shop:
            raise RefreshRefused("refresh token is invalid")
        if at >= record.expires_at:
            raise RefreshRefused("refresh token has expired")
        if record.retired:
            raise RefreshRefused("refresh token was revoked")
        if record.successor is not None:
            successor = self.refresh[record.successor]
            if successor.used or at - (record.rotated_at or at) > RETRY_WINDOW:
                raise RefreshRefused("refresh token was already used")

    def authenticate(self, shop: str, token: str | None) -> AccessRecord | None:
        if not token:
            return None
        with self.lock:
            record = self.access.get(digest(token))
            if record is None or record.shop != shop or not record.valid(time.time()):
                self._stats(shop).api_rejections += 1
                return None
            return record

    def revoke_shop(self, shop: str) -> None:
        with self.lock:
            for access in self.access.values():
                if access.shop == shop:
                    access.revoked = True
            for refresh in self.refresh.values():
                if refresh.shop == shop:
                    refresh.retired = True

    def expire(self, shop: str, *, access: bool = True, refresh: bool = False) -> int:
        """Make the shop's tokens expired now (tests); returns how many were touched."""
        past, touched = time.time() - 1, 0
        with self.lock:
            if access:
                for access_record in self.access.values():
                    if access_record.shop == shop and access_record.valid(past + 1):
                        access_record.expires_at, touched = past, touched + 1
            if refresh:
                for refresh_record in self.refresh.values():
                    if refresh_record.shop == shop and refresh_record.expires_at > past:
                        refresh_record.expires_at, touched = past, touched + 1
        return touched

    def stats(self, shop: str) -> dict[str, object]:
        at = time.time()
        with self.lock:
            counts = self._stats(shop)
            live = [a for a in self.access.values() if a.shop == shop and a.valid(at)]
            refreshers = [r for r in self.refresh.values()
                          if r.shop == shop and not r.retired and r.expires_at > at
                          and r.successor is None]
            expiries = [a.expires_at for a in live if a.expires_at is not None]
            return {**counts.__dict__, "active_access_tokens": len(live),
                    "active_refresh_tokens": len(refreshers),
                    "access_expires_in": round(max(expiries) - at) if expiries else None,
                    "scopes": live[-1].scopes if live else None}


@dataclass
class AuthCode:
    shop: str
    scopes: str
    expires_at: float
    used: bool = False


@dataclass
class CodeBook:
    codes: dict[str, AuthCode] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new(self, shop: str, scopes: str, ttl: int = 600) -> str:
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = AuthCode(shop, scopes, time.time() + ttl)
        return code

    def take(self, shop: str, code: str) -> AuthCode | None:
        with self.lock:
            record = self.codes.get(code)
            if record is None or record.used or record.shop != shop \
                    or time.time() >= record.expires_at:
                return None
            record.used = True
            return record
