"""Every Klaviyo call of every kind of work goes through `Delivery.call`.

It (1) keeps the lease on the rows being worked on alive (`Lease.keep_alive`), (2) takes a slot
from the shared rate limiter — unless the caller took it already, as the fan-out does before it
claims — or raises `Blocked(wait)` without calling, (3) attaches a `SyncAttempt` recorder so each
call leaves a row (written at once, or held until the outcome's transaction with
`defer_attempts=True`), and (4) sorts what Klaviyo answered into the pipeline's four outcomes:

- wait: a 429 sets the account's shared cool-down and raises `Blocked(wait)`; the rows go back
  untouched, due after the wait, with no attempt counted (so does our own limiter's "not yet");
- merchant must act: 401/403, a deleted list, ... halt the connection with the merchant-facing
  sentence and raise `Halted`; the rows are handed back untouched for the reconnect;
- retry: 5xx, timeouts, connection errors propagate as a retryable `KlaviyoError`; the handler
  backs the rows off through `leasing.retry` (one policy: `policy.backoff_seconds`, capped by
  `policy.MAX_ATTEMPTS` for errors that waiting cannot fix);
- record fails alone: a 400 pointing at records (`send_pointed`): the pointed records fail with
  Klaviyo's detail, the rest are resent, at most `policy.MAX_ATTEMPTS` requests in all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests

from integrations.klaviyo import ratelimit
from integrations.klaviyo.client import Attempt, KlaviyoClient, Observer
from integrations.klaviyo.errors import (
    KlaviyoBadRequestError,
    KlaviyoError,
    KlaviyoNotFoundError,
    KlaviyoRateLimitedError,
)
from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.services import attempt_recorder, client_for, connection_halt
from notifyme.core import logcontext
from notifyme.delivery import leasing, pointers, policy

T = TypeVar("T")
R = TypeVar("R")
_session: tuple[int, requests.Session] | None = None


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
    """One keep-alive session per process, reused across jobs (a forked work horse must not
    share its parent's connections, hence keyed by pid)."""
    global _session
    if _session is None or _session[0] != os.getpid():
        _session = (os.getpid(), requests.Session())
    return _session[1]


def limiter_account(connection: KlaviyoConnection) -> str:
    """The rate limiter's key for a connection: its Klaviyo account (every shop on one account
    shares that account's limits), else the shop."""
    return connection.account_id or f"shop-{connection.shop_id}"


@dataclass
class Lease:
    """The rows one job holds, under one token, and when the lease must be renewed."""

    model: type[Any]
    token: str
    seconds: float
    ids: set[int] = field(default_factory=set)
    renew_at: float = 0.0

    def add(self, ids: Iterable[int]) -> None:
        self.ids.update(ids)
        self.renew_at = time.monotonic() + self.seconds / 2

    def discard(self, ids: Iterable[int]) -> None:
        """Rows this job already finished: no longer renewed (nor expected to be pending)."""
        self.ids.difference_update(ids)

    def keep_alive(self) -> None:
        """Renew when half the lease is gone; raise LeaseLost if any row slipped away."""
        if not self.ids or time.monotonic() < self.renew_at:
            return
        kept = leasing.extend(self.model, self.ids, token=self.token, lease_seconds=self.seconds)
        if kept < len(self.ids):
            raise LeaseLost(f"{len(self.ids) - kept} rows were taken over")
        self.renew_at = time.monotonic() + self.seconds / 2


@dataclass
class Delivery:
    """One job's view of one shop's Klaviyo connection (built after the connection was checked).

    `defer_attempts=True`: each call's SyncAttempt is held until `flush_attempts()`, which the
    handler calls inside its outcome's transaction (one commit for both), and again in a
    `finally` for anything not written with an outcome.
    """

    connection: KlaviyoConnection
    client: KlaviyoClient
    lease: Lease | None = None
    deferred: list[tuple[Observer, Attempt]] | None = None

    @classmethod
    def open(cls, connection: KlaviyoConnection, *, defer_attempts: bool = False) -> Delivery:
        """Raises SecretDecryptionError when the stored key no longer decrypts. Binds the
        shop to the log context (the job's lines name it from here on)."""
        logcontext.bind_shop(connection.shop.domain)
        return cls(connection=connection, client=client_for(connection, session=shared_session()),
                   deferred=[] if defer_attempts else None)

    @property
    def shop(self) -> Any:
        return self.connection.shop

    @property
    def account_id(self) -> str:
        return limiter_account(self.connection)

    @property
    def list_id(self) -> str:
        return self.connection.list_id

    def call(
        self, operation: str, fn: Callable[[KlaviyoClient], T], *,
        subscription_id: int | None = None, subscription_ids: Iterable[int] = (),
        retry_count: int = 0, slot_taken: bool = False,
    ) -> T:
        """Run one Klaviyo call under the limiter, with an attempt row; see module docstring.

        `subscription_id` / `subscription_ids`: the records the call carries (a batch names
        them all), linked to its attempt row so the shopper timeline finds every call that
        carried a shopper. `slot_taken`: the caller already holds a limiter slot for
        `operation`."""
        if self.lease is not None:
            self.lease.keep_alive()
        if not slot_taken:
            wait = ratelimit.acquire(account_id=self.account_id, operation=operation)
            if wait > 0:
                raise Blocked(wait)
        recorder = attempt_recorder(shop=self.shop, subscription_id=subscription_id,
                                    subscription_ids=subscription_ids, retry_count=retry_count)
        deferred = self.deferred
        self.client.observer = (recorder if deferred is None
                                else lambda attempt: deferred.append((recorder, attempt)))
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

    def flush_attempts(self) -> None:
        """Write the held SyncAttempt rows (call inside the outcome's transaction)."""
        while self.deferred:
            recorder, attempt = self.deferred.pop(0)
            recorder(attempt)


def is_list_error(error: KlaviyoError) -> bool:
    """A 404 about the merchant's list (deleted in Klaviyo), not about a profile."""
    if not isinstance(error, KlaviyoNotFoundError):
        return False
    text = f"{error.pointer} {error.detail}".lower()
    return "list" in text or "relationships" in text or not error.pointer


def send_pointed(
    ctx: Delivery, operation: str | Callable[[int], str], records: list[R], *,
    build: Callable[[list[R]], tuple[list[R], list[Any]]],
    send: Callable[[KlaviyoClient, list[Any]], object],
    base: str,
    on_pointed: Callable[[list[tuple[R, str, str]], KlaviyoBadRequestError], Iterable[R]],
    on_unattributed: Callable[[list[R], KlaviyoBadRequestError], None],
    subscription_ids: Callable[[list[R]], Iterable[int]] = lambda _: (),
    retry_count: Callable[[list[R]], int] = lambda _: 0,
    held: str | None = None,
) -> list[R]:
    """One bulk request for `records`, the "record fails alone" rule; returns the owner of each
    entry Klaviyo accepted, in request order (empty when nothing was left to send).

    `build(live)` -> (owners, entries): the request's entries and, index for index, the record
    each came from (a record may own several entries). A 400 whose pointers name entries
    (`base/<i>/...`, see `pointers`) calls `on_pointed([(record, pointer, detail)], error)`,
    which returns the records to drop (they failed alone; a record it keeps is resent, e.g.
    without its phone); the rest are resent. A 400 that names no entry is the request's fault:
    `on_unattributed(owners, error)`, and nothing is accepted. At most `policy.MAX_ATTEMPTS`
    requests. `operation` may depend on the entry count (a lone event goes as a single create);
    `held`: the operation whose limiter slot the caller already took (first request only).
    `subscription_ids(owners)`: the records each request carries (linked to its attempt).
    Blocked, Halted and every other Klaviyo error propagate.
    """
    live = records
    for _ in range(policy.MAX_ATTEMPTS):
        owners, entries = build(live)
        if not entries:
            return []
        name = operation if isinstance(operation, str) else operation(len(entries))
        try:
            ctx.call(name, bound(send, entries), subscription_ids=subscription_ids(owners),
                     retry_count=retry_count(owners), slot_taken=name == held)
            return owners
        except KlaviyoBadRequestError as error:
            held = None
            pointed = pointers.pointed_indexes(error, base)
            if not pointed:
                on_unattributed(owners, error)
                return []
            named = [(owners[index], pointer, detail)
                     for index, (pointer, detail) in pointed.items() if index < len(owners)]
            dropped = {id(record) for record in on_pointed(named, error)}
            live = [record for record in dict.fromkeys(owners) if id(record) not in dropped]
    return []
