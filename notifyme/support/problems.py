"""From a shop's facts to the list of its problems, each with its catalogue entry (reads only).

One function for the board, the shop page and `doctor`, so all three name the same problems
with the same words. `severity` is "action" (someone must do something: the merchant, support
or us) or "warning" (shown, but the app recovers by itself or there is time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from integrations.klaviyo.errors import (
    KlaviyoAuthError,
    KlaviyoForbiddenError,
    KlaviyoNotFoundError,
    KlaviyoScopeError,
)
from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.revision import revision_status
from notifyme.shops.models import Shop
from notifyme.support.catalogue import Entry, entry
from notifyme.support.facts import Facts
from notifyme.support.health import STALL_AFTER

#: Kinds that halt a merchant's sync: already said by the connection's status.
HALTING_KINDS = frozenset(cls.kind for cls in (KlaviyoAuthError, KlaviyoScopeError,
                                               KlaviyoForbiddenError, KlaviyoNotFoundError))
#: A webhook waiting longer than this is reported as lag.
WEBHOOK_LAG_WARN_SECONDS = 300


@dataclass(frozen=True)
class Problem:
    severity: str
    entry: Entry
    #: What was seen, with numbers ("3 in 24 h, 12 in 7 days"); the entry says what it means.
    detail: str
    sentence: str = ""

    @property
    def fix(self) -> str:
        return self.sentence or self.entry.fix


def _age(since: datetime | None, now: datetime) -> float:
    return (now - since).total_seconds() if since else 0.0


def problems_for(facts: Facts, *, now: datetime, today: date) -> list[Problem]:
    """Every problem of the shop, actions first (see the module docstring)."""
    found: list[Problem] = []

    def add(severity: str, source: str, kind: str, detail: str, sentence: str = "") -> None:
        found.append(Problem(severity, entry(source, kind), detail, sentence))

    shop = facts.shop
    if shop.state == Shop.State.UNINSTALLED:
        add("action", "shop", "uninstalled", f"uninstalled {shop.uninstalled_at or ''}".strip())
        return found
    _shop_problems(shop, add, now=now)
    _connection_problems(facts, add)
    _pipeline_problems(facts, add, now=now)
    if facts.cool_down_seconds > 0:
        _cool_down(found, facts.cool_down_seconds, add)
    revision = revision_status(today=today)
    if revision.state != "ok":
        add("action" if revision.state == "retired" else "warning", "klaviyo",
            "revision_retiring", revision.warning)
    return sorted(found, key=lambda p: p.severity != "action")


Add = Callable[..., None]


def _shop_problems(shop: Shop, add: Add, *, now: datetime) -> None:
    if shop.auth_state == Shop.AuthState.NEEDS_REAUTH:
        add("action", "shop", "needs_reauth",
            f"since {shop.auth_state_changed_at:%Y-%m-%d %H:%M} UTC"
            if shop.auth_state_changed_at else "")
    elif not (shop.access_token_encrypted or shop.refresh_token_encrypted):
        add("action", "shop", "no_grant", "no access or refresh token stored")
    elif shop.refresh_token_expires_at and shop.refresh_token_expires_at < now:
        add("action", "shop", "refresh_expired",
            f"refresh token expired {shop.refresh_token_expires_at:%Y-%m-%d %H:%M} UTC")


def _status(facts: Facts) -> str:
    return facts.connection.status if facts.connection else KlaviyoConnection.Status.DISCONNECTED


def _connection_problems(facts: Facts, add: Add) -> None:
    connection, status = facts.connection, _status(facts)
    if status == KlaviyoConnection.Status.DISCONNECTED:
        add("action", "klaviyo", "not_connected", "no Klaviyo key stored")
    elif status == KlaviyoConnection.Status.NEEDS_ATTENTION and connection:
        kind = connection.last_error_kind or "unknown"
        since = (f" since {connection.last_error_at:%Y-%m-%d %H:%M} UTC"
                 if connection.last_error_at else "")
        add("action", "klaviyo", kind, "sync halted" + since, connection.last_error_message)
    if connection and status == KlaviyoConnection.Status.CONNECTED and connection.flow_alarm:
        flows = ", ".join(f"{f['name']} ({f['status']})" for f in connection.flow_flows or [])
        add("action", "klaviyo", "flow_not_live",
            f"flows on the Back in Stock metric: {flows or 'none'}"
            + (f"; checked {connection.flow_checked_at:%Y-%m-%d %H:%M} UTC"
               if connection.flow_checked_at else ""))
    for count in facts.errors:
        halting = count.source == "klaviyo" and count.kind in HALTING_KINDS
        if count.day == 0 or (halting and status != KlaviyoConnection.Status.CONNECTED):
            continue  # nothing recent, or the halt above already says it
        add("warning", count.source, count.kind, f"{count.day} in 24 h, {count.week} in 7 days")


def _pipeline_problems(facts: Facts, add: Add, *, now: datetime) -> None:
    stalled = [t for t in (facts.outbox_oldest_due, facts.restock_oldest)
               if t and now - t > STALL_AFTER]
    if stalled and _status(facts) == KlaviyoConnection.Status.CONNECTED:
        add("action", "shop", "backlog_stalled",
            f"{facts.backlog} rows waiting, oldest due {int(_age(min(stalled), now) // 60)} min")
    lag = _age(facts.webhook_oldest, now)
    if lag > WEBHOOK_LAG_WARN_SECONDS:
        add("warning", "shop", "webhook_lag",
            f"{facts.webhooks_pending} webhooks waiting, oldest {int(lag // 60)} min")


def _cool_down(found: list[Problem], seconds: float, add: Add) -> None:
    """One rate-limit problem with both the 429 counts and the wait in force."""
    cool = f"cool-down in force: {seconds:.0f} s left"
    for i, problem in enumerate(found):
        if (problem.entry.source, problem.entry.kind) == ("klaviyo", "rate_limited"):
            found[i] = Problem(problem.severity, problem.entry, f"{problem.detail}; {cool}",
                               problem.sentence)
            return
    add("warning", "klaviyo", "rate_limited", f"Klaviyo {cool}")
