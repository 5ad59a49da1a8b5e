"""The stand-in's settings: the one app it plays Shopify for, lifetimes, cost limits, switches.

Everything here can be changed at run time through `POST /_shopify/config` and
`POST /_shopify/switches`, so tests expire tokens or shrink the bucket without a restart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .web import HttpError

DEFAULT_SCOPES = "read_products,read_inventory,read_locations,read_orders"


@dataclass
class Config:
    api_key: str = "standin-api-key"
    api_secret: str = "standin-api-secret-0123456789abcdef0123456789"  # noqa: S105 - dev default
    app_url: str = "http://127.0.0.1:8000"
    scopes: str = DEFAULT_SCOPES
    access_ttl: int = 3600
    refresh_ttl: int = 90 * 86400
    bucket_max: float = 2000.0
    restore_rate: float = 100.0
    max_query_cost: int = 1000  # Shopify's single-query limit, whatever the bucket holds
    webhook_attempts: int = 4  # first try + retries
    webhook_retry_delay: float = 0.25  # doubled per retry
    webhook_timeout: float = 5.0
    bulk_pause: float = 0.0  # seconds a bulk query stays RUNNING before it reads (tests)

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out["api_secret"] = "…" + self.api_secret[-4:] if self.api_secret else ""
        return out

    def update(self, changes: dict[str, Any]) -> None:
        known = {f.name: f for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise HttpError(400, {"error": f"{name}: unknown setting", "field": name})
            kind = type(getattr(self, name))
            try:
                setattr(self, name, kind(value))
            except (TypeError, ValueError):
                raise HttpError(400, {"error": f"{name}: expected {kind.__name__}",
                                      "field": name}) from None
        self.app_url = self.app_url.rstrip("/")


@dataclass
class Switches:
    duplicates: bool = False
    out_of_order: int = 0  # 0 off; 1 hold until flushed/switched off; n >= 2 reverse batches of n
    drop: float = 0.0  # fraction of deliveries dropped (1.0 = all)
    down: bool = False  # Admin API and OAuth answer 503

    def update(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            if value is None:
                continue
            if name == "duplicates":
                self.duplicates = bool(value)
            elif name == "out_of_order":
                self.out_of_order = int(value)  # True → 1 (hold until flushed)
            elif name == "drop":
                self.drop = 1.0 if value is True else float(value)
                if not 0 <= self.drop <= 1:
                    raise HttpError(400, {"error": "drop: between 0 and 1", "field": "drop"})
            elif name == "down":
                self.down = bool(value)
            else:
                raise HttpError(400, {"error": f"{name}: unknown switch", "field": name})
