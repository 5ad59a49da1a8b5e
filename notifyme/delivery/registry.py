"""The handler registry: one small, explicitly registered handler per kind of outbound work.

Modelled on Zulip's queue workers (one class per queue, registered by name) and Saleor's
event deliveries (a row per delivery, an attempt row per call): the pipeline in this package
owns leasing, nudges, the sweeper, the worker and the Klaviyo call wrapper; a handler only says
what is due, how to claim it, how to build the request and what success means.

Domains register their handlers in their `AppConfig.ready()` (never as a side effect of
importing a module), so every process that runs `django.setup()` — web, worker, sweeper — has the
same registry, and a module that nothing imported cannot silently miss its delayed nudges.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class WorkHandler(Protocol):
    """What one kind of work tells the pipeline. (Registered with `register(handler)`.)

    - `name`: a short key (`"sync"`, `"restocks"`); the sweeper reports under it.
    - `sweep()`: find this kind's rows that are due or stranded (pending and unleased, or whose
      lease expired because a worker died) and nudge them. Runs every minute in the sweeper
      process and must be idempotent and cheap when nothing is due; reads the database only,
      so a flushed Redis loses nothing. Returns something printable for logs and tests.
    - `delayed`: delayed-nudge prefixes this kind fires, `{prefix: handler(arg)}`;
      `nudges.later(prefix, arg, seconds)` calls `handler(arg)` when due (sweeper process).
    - `warm_up`: modules a worker imports before its first job (the job entry points and what
      they use), so no job pays for imports.

    A job of this kind (an RQ function taking ids, never keys or payloads) then does:
    `leasing.claim(...)` rows of a model built on `models.WorkRow` (fenced by the claim's
    token), one Klaviyo call per chunk through `calls.Delivery` (limiter slot, attempt row,
    wait / halt / retry / record-fails-alone), and writes the outcome with the leasing helpers,
    passing the token.

    Example, the Shopify webhook processing of the next issue: `WebhookEvent(WorkRow)` rows
    written by the intake view; a `Handler(name="webhooks", sweep=<enqueue due events>,
    warm_up=("notifyme.webhooks.jobs",))` registered in `WebhooksConfig.ready()`; the job claims
    events, runs the topic's service and completes them under its token.
    """

    @property
    def name(self) -> str: ...

    @property
    def delayed(self) -> Mapping[str, Callable[[str], object]]: ...

    @property
    def warm_up(self) -> tuple[str, ...]: ...

    def sweep(self) -> Any: ...


@dataclass(frozen=True)
class Handler:
    """The plain implementation of `WorkHandler` the domains use."""

    name: str
    sweep: Callable[[], Any]
    delayed: Mapping[str, Callable[[str], object]] = field(default_factory=dict)
    warm_up: tuple[str, ...] = ()


_handlers: dict[str, WorkHandler] = {}


def register(handler: WorkHandler) -> None:
    """Add (or replace, by name) a handler. Call from `AppConfig.ready()`."""
    _handlers[handler.name] = handler


def unregister(name: str) -> None:
    _handlers.pop(name, None)


def handlers() -> list[WorkHandler]:
    return list(_handlers.values())


def get(name: str) -> WorkHandler:
    return _handlers[name]


def delayed_handler(prefix: str) -> Callable[[str], object] | None:
    """The registered handler of a delayed-nudge prefix (None when no kind claims it)."""
    for handler in _handlers.values():
        found = handler.delayed.get(prefix)
        if found is not None:
            return found
    return None


def warm_up_modules() -> list[str]:
    return [module for handler in _handlers.values() for module in handler.warm_up]
