"""STUB until h-client is merged (INTERFACES.md names only)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notifyme.shops.models import Shop


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    access_expires_at: datetime | None
    refresh_token: str
    refresh_expires_at: datetime | None
    scopes: frozenset[str]


def token_exchange(*, shop_domain: str, id_token: str) -> TokenGrant:
    raise NotImplementedError


def code_exchange(*, shop_domain: str, code: str) -> TokenGrant:
    raise NotImplementedError


def tokens_store(*, shop: Shop, grant: TokenGrant) -> None:
    shop.set_access_token(grant.access_token)
    shop.set_refresh_token(grant.refresh_token)
    shop.access_token_expires_at = grant.access_expires_at
    shop.refresh_token_expires_at = grant.refresh_expires_at
    shop.granted_scopes = ",".join(sorted(grant.scopes))
    shop.auth_state = Shop.AuthState.OK
    shop.save()
