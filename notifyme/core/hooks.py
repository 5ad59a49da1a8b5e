"""Hooks: how a lower layer tells the layers above it that something happened, without
importing them.

A lower module (the Klaviyo integration, the catalog, subscriptions) declares a `Hook` and
fires it; the apps above register their callbacks in `AppConfig.ready()`, so the arrows in the
import graph keep pointing down. Callbacks are called with keyword arguments, in registration
order. `fire` lets an exception propagate (a hook run inside the caller's transaction must be
able to roll it back); `fire_each` logs it and carries on (for best-effort work after commit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

logger = logging.getLogger(__name__)

C = TypeVar("C", bound=Callable[..., Any])


class Hook(Generic[C]):
    """A named, ordered list of callbacks of one shape (`C`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.callbacks: list[C] = []

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, {len(self.callbacks)} callbacks)"

    def register(self, callback: C) -> C:
        """Add `callback` (once: registering it again changes nothing); returns it."""
        if callback not in self.callbacks:
            self.callbacks.append(callback)
        return callback

    def fire(self, **kwargs: Any) -> list[Any]:
        """Call every callback; their results in order. The first exception propagates."""
        return [callback(**kwargs) for callback in list(self.callbacks)]

    def fire_each(self, **kwargs: Any) -> int:
        """Call every callback even if one fails (the failure is logged); how many succeeded."""
        succeeded = 0
        for callback in list(self.callbacks):
            try:
                callback(**kwargs)
            except Exception:
                logger.exception("hook %s: %s failed", self.name,
                                 getattr(callback, "__qualname__", callback))
            else:
                succeeded += 1
        return succeeded
