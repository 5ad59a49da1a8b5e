"""STUB until h-client is merged (INTERFACES.md names only)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notifyme.shops.models import Shop


class AdminClient:
    def __init__(self, shop: Shop, *, timeout: float | None = None) -> None:
        self.shop = shop
        self.cost_used = 0

    def run(self, document: Any, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        raise NotImplementedError
