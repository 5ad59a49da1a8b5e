"""What the board knows about one shop: the `Facts` record `health.facts_for` fills (plain
data, no queries), with its error counts and last error."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from integrations.klaviyo.models import KlaviyoConnection
from integrations.shopify.ratelimit import Bucket
from notifyme.shops.models import Shop
from notifyme.support.catalogue import Entry

#: (value, label), in board order: the broken ones first.
STATUSES: tuple[tuple[str, str], ...] = (
    ("action", "Needs action"),
    ("failing", "Errors or stalled"),
    ("not_connected", "Klaviyo not connected"),
    ("healthy", "Healthy"),
    ("uninstalled", "Uninstalled"),
)
STATUS_LABELS = dict(STATUSES)
RANK = {value: i for i, (value, _) in enumerate(STATUSES)}


@dataclass
class ErrorCount:
    source: str
    kind: str
    entry: Entry
    day: int
    week: int
    last_at: datetime | None


@dataclass
class LastError:
    source: str
    kind: str
    entry: Entry
    at: datetime
    sentence: str
    detail: str = ""
    error_id: str = ""


@dataclass
class Facts:
    """What the board knows about one shop (see `facts_for`)."""

    shop: Shop
    health: str
    connection: KlaviyoConnection | None
    last_success: datetime | None = None
    last_error: LastError | None = None
    errors: list[ErrorCount] = field(default_factory=list)
    outbox_pending: int = 0
    outbox_due: int = 0
    outbox_oldest: datetime | None = None
    outbox_oldest_due: datetime | None = None
    restock_pending: int = 0
    restock_oldest: datetime | None = None
    webhooks_pending: int = 0
    webhook_oldest: datetime | None = None
    cool_down_seconds: float = 0.0
    bucket: Bucket | None = None

    @property
    def health_label(self) -> str:
        return STATUS_LABELS.get(self.health, self.health)

    @property
    def connection_label(self) -> str:
        status = self.connection.status if self.connection else "disconnected"
        return str(KlaviyoConnection.Status(status).label)

    @property
    def install_state(self) -> str:
        """installed / uninstalled / needs re-auth (the board's Shopify column)."""
        if self.shop.state == Shop.State.UNINSTALLED:
            return "uninstalled"
        if (self.shop.auth_state == Shop.AuthState.NEEDS_REAUTH
                or not (self.shop.access_token_encrypted or self.shop.refresh_token_encrypted)):
            return "needs re-auth"
        return "installed"

    @property
    def error_resolved(self) -> bool:
        """The last error was followed by an accepted call (and nothing halts the shop)."""
        return bool(self.last_error and self.last_success and self.health != "action"
                    and self.last_success > self.last_error.at)

    @property
    def backlog(self) -> int:
        return self.outbox_pending + self.restock_pending

    @property
    def backlog_oldest(self) -> datetime | None:
        times = [t for t in (self.outbox_oldest, self.restock_oldest) if t]
        return min(times) if times else None

    @property
    def rate_limited_day(self) -> int:
        return sum(e.day for e in self.errors if e.source == "klaviyo"
                   and e.kind == "rate_limited")
