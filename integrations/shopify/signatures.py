"""STUB until h-client is merged (INTERFACES.md names only)."""
from __future__ import annotations

from typing import Any


class InvalidSignature(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def oauth_query_verify(query: Any, *, max_age_seconds: int = 90) -> None:
    raise InvalidSignature("not implemented")
