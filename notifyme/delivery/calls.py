"""Every Klaviyo call the sync engine makes goes through `SyncContext.call`.

It (1) keeps the lease on the rows being worked on alive, (2) takes a slot from the shared rate
limiter or raises `Blocked(wait)` without calling, (3) attaches a `SyncAttempt` recorder so each
call leaves a row, and (4) turns the outcomes the engine treats alike into two exceptions:
`Blocked` (a 429: the account's shared cool-down is set and every worker waits) and `Halted`
(401/403 and other "merchant must act" errors: the connection is halted with the sentence, and
the rows are handed back untouched). Everything else propagates as the classified KlaviyoError.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests

from integrations.klaviyo import ratelimit
from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.errors import KlaviyoError, KlaviyoRateLimitedError
from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.services import attempt_recorder, client_for, connection_halt
from notifyme.delivery import leasing

T = TypeVar("T")
_session: requests.Session | None = None


def bound(fn: Callable[..., T], *args: Any, **kwargs: Any) -> Callable[[KlaviyoClient], T]:
    """`client -> fn(client, *args, **kwargs)` with the arguments bound now (loop-safe)."""
    return lambda client: fn(client, *args, **kwargs)


class Blocked(Exception):
    """Rate limited (our limiter, or a 429 with its cool-down set): try again in `wait` s."""

    def __init__(self, wait: float, error: KlaviyoError | None = None) -> None:
        super().__init__(f"rate limited for {wait:.2f}s")
        self.wait = wait
        self.error = error


class Halted(Exception):
    """The merchant must act (key revoked, scope missing, list deleted); sync is paused."""

    def __init__(self, error: KlaviyoError) -> None:
        super().__init__(str(error))
        self.error = error


class LeaseLost(Exception):
    """Another worker took over our rows (we stalled past the lease); stop touching them."""


def shared_session() -> requests.Session:
    """One keep-alive session per worker process (connections are reused across jobs)."""
    global _session
    if _session is None:
        _session = requests.Session()
    return _session


@dataclass
class Lease:
    """The rows one job holds, under one token, and when the lease must be renewed."""

    model: type[Any]
    token: str
    seconds: float
    ids: set[int] = field(default_factory=set)
    renew_at: float = 0.0

    def add(self, ids: list[int]) -> None:
        self.ids.update(ids)
        self.renew_at = time.monotonic() + self.seconds / 2

    def keep_alive(self) -> None:
        """Renew when half the lease is gone; raise LeaseLost if any row slipped away."""
        if not self.ids or time.monotonic() < self.renew_at:
            return
        kept = leasing.extend(self.model, self.ids, token=self.token, lease_seconds=self.seconds)
        if kept < len(self.ids):
            raise LeaseLost(f"{len(self.ids) - kept} rows were taken over")
        self.renew_at = time.monotonic() + self.seconds / 2


@dataclass
class SyncContext:
    """One job's view of one shop's connection (built after the connection was checked)."""

    connection: KlaviyoConnection
    client: KlaviyoClient
    lease: Lease | None = None

    @classmethod
    def open(cls, connection: KlaviyoConnection) -> SyncContext:
        return cls(connection=connection, client=client_for(connection, session=shared_session()))

    @property
    def shop(self) -> Any:
        return self.connection.shop

    @property
    def account_id(self) -> str:
        return self.connection.account_id or f"shop-{self.connection.shop_id}"

    @property
    def list_id(self) -> str:
        return self.connection.list_id

    def call(
        self, operation: str, fn: Callable[[KlaviyoClient], T], *,
        subscription_id: int | None = None, retry_count: int = 0,
    ) -> T:
        """Run one Klaviyo call under the limiter, with an attempt row; see module docstring."""
        if self.lease is not None:
            self.lease.keep_alive()
        wait = ratelimit.acquire(account_id=self.account_id, operation=operation)
        if wait > 0:
            raise Blocked(wait)
        self.client.observer = attempt_recorder(
            shop=self.shop, subscription_id=subscription_id, retry_count=retry_count)
        try:
            return fn(self.client)
        except KlaviyoRateLimitedError as error:
            left = ratelimit.cool_down_after(account_id=self.account_id,
                                             retry_after=error.retry_after)
            raise Blocked(left, error) from error
        except KlaviyoError as error:
            if error.merchant_must_act:
                self.halt(error)
            raise

    def halt(self, error: KlaviyoError) -> None:
        """Pause this shop's sync with the merchant-facing sentence; raises Halted."""
        connection_halt(connection=self.connection, error=error)
        raise Halted(error)


def is_list_error(error: KlaviyoError) -> bool:
    """A 404 about the merchant's list (deleted in Klaviyo), not about a profile."""
    from integrations.klaviyo.errors import KlaviyoNotFoundError

    if not isinstance(error, KlaviyoNotFoundError):
        return False
    text = f"{error.pointer} {error.detail}".lower()
    return "list" in text or "relationships" in text or not error.pointer
