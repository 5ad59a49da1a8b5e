"""`shop_diagnose`: everything support needs to know about one shop, optionally re-probed live.

Shared by the shop page (`/support/shops/<domain>/`, stored facts only: opening a page never
calls Klaviyo) and `manage.py doctor` (`probe=True`: the stored key is verified again through
`integrations.klaviyo.scopes.key_verify`, every scope probe included, and the list is fetched).
A probe writes nothing: its client has no attempt recorder and no connection field is saved
(re-verifying *with* saving is the support action `connection_retest`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError

from integrations.klaviyo.errors import KlaviyoError, KlaviyoNotFoundError
from integrations.klaviyo.models import SyncAttempt
from integrations.klaviyo.revision import RevisionStatus, revision_status
from integrations.klaviyo.scopes import ALL_REQUIRED, ConnectionRefused, key_verify
from integrations.klaviyo.services import client_for
from notifyme.core import crypto
from notifyme.shops.models import Shop, normalize_shop_domain
from notifyme.support.catalogue import Entry, entry, webhook_kind
from notifyme.support.facts import Facts
from notifyme.support.health import facts_for, shops_ranked
from notifyme.support.problems import Problem, problems_for
from notifyme.webhooks.models import WebhookEvent

RECENT_FAILURES = 10


class ShopUnknown(LookupError):
    """No shop with that domain (or the domain is not a shop domain at all)."""


@dataclass
class Probe:
    """What a live re-verification found (`doctor` only)."""

    ok: bool
    kind: str = ""
    sentence: str = ""
    missing_scopes: list[str] = field(default_factory=list)
    account_name: str = ""
    list_ok: bool | None = None


@dataclass
class Failure:
    """One failed Klaviyo call, with its catalogue entry."""

    at: datetime
    operation: str
    status_code: int | None
    kind: str
    code: str
    detail: str
    pointer: str
    error_id: str
    entry: Entry

    @property
    def is_probe(self) -> bool:
        """A permission probe of a connect/verify (an expected 4xx is logged as success)."""
        return self.operation.startswith("verify_")


@dataclass
class FailedWebhook:
    """One failed webhook delivery, with its catalogue entry."""

    received_at: datetime
    topic: str
    webhook_id: str
    error: str
    entry: Entry


@dataclass
class Diagnosis:
    facts: Facts
    problems: list[Problem]
    failures: list[Failure]
    revision: RevisionStatus
    probe: Probe | None = None
    webhooks: list[FailedWebhook] = field(default_factory=list)

    @property
    def needs_action(self) -> bool:
        return any(p.severity == "action" for p in self.problems)

    def as_json(self) -> dict[str, Any]:
        """The `doctor --json` document (no secret: key shown as pk_…abcd only)."""
        facts, shop, connection = self.facts, self.facts.shop, self.facts.connection
        return _plain({
            "shop": shop.domain, "health": facts.health, "needs_action": self.needs_action,
            "install": {"state": facts.install_state, "installed_at": shop.installed_at,
                        "uninstalled_at": shop.uninstalled_at, "auth_state": shop.auth_state},
            "tokens": {"access_token": bool(shop.access_token_encrypted),
                       "access_token_expires_at": shop.access_token_expires_at,
                       "refresh_token": bool(shop.refresh_token_encrypted),
                       "refresh_token_expires_at": shop.refresh_token_expires_at,
                       "granted_scopes": shop.granted_scopes.split(",") if shop.granted_scopes
                       else []},
            "klaviyo": {
                "status": connection.status if connection else "disconnected",
                "key": connection.key_display if connection else "",
                "account": connection.account_name if connection else "",
                "list": {"id": connection.list_id, "name": connection.list_name}
                if connection and connection.list_id else None,
                "scopes_verified": list(connection.scopes_verified) if connection else [],
                "scopes_required": list(ALL_REQUIRED),
                "verified_at": connection.verified_at if connection else None,
                "last_success": facts.last_success,
                "flow": {"state": connection.flow_state, "checked_at": connection.flow_checked_at,
                         "flows": list(connection.flow_flows or []),
                         "alarm": connection.flow_alarm} if connection else None,
            },
            "probe": self.probe.__dict__ if self.probe else None,
            "backlog": {"outbox_pending": facts.outbox_pending, "outbox_due": facts.outbox_due,
                        "outbox_oldest": facts.outbox_oldest,
                        "restock_pending": facts.restock_pending,
                        "restock_oldest": facts.restock_oldest,
                        "webhooks_pending": facts.webhooks_pending,
                        "webhook_oldest": facts.webhook_oldest},
            "rate_limits": {"klaviyo_cool_down_seconds": round(facts.cool_down_seconds, 1),
                            "klaviyo_429_24h": facts.rate_limited_day,
                            "shopify_bucket": facts.bucket.__dict__ if facts.bucket else None},
            "errors": [{"source": e.source, "kind": e.kind, "title": e.entry.title,
                        "last_24h": e.day, "last_7d": e.week, "last_at": e.last_at}
                       for e in facts.errors],
            "recent_failures": [{**{k: v for k, v in f.__dict__.items() if k != "entry"},
                                 "probe": f.is_probe, "fix": f.entry.fix}
                                for f in self.failures],
            "failed_webhooks": [{"received_at": w.received_at, "topic": w.topic,
                                 "webhook_id": w.webhook_id, "kind": w.entry.kind,
                                 "error": w.error, "fix": w.entry.fix} for w in self.webhooks],
            "revision": {"revision": self.revision.revision,
                         "retires_on": self.revision.retires_on,
                         "days_left": self.revision.days_left, "state": self.revision.state},
            "problems": [{"severity": p.severity, "source": p.entry.source, "kind": p.entry.kind,
                          "title": p.entry.title, "detail": p.detail,
                          "explanation": p.entry.explanation, "fix": p.fix,
                          "anchor": p.entry.anchor} for p in self.problems],
        })


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Entry):
        return value.anchor
    return value


def shop_for_domain(*, domain: str) -> Shop:
    """The shop, domain normalised like the rest of the app; raise ShopUnknown."""
    raw = (domain or "").strip().lower().removeprefix("https://").removeprefix("http://")
    try:
        clean = normalize_shop_domain(raw.split("/", 1)[0])
    except ValidationError:
        raise ShopUnknown(domain) from None
    shop = Shop.objects.filter(domain=clean).first()
    if shop is None:
        raise ShopUnknown(clean)
    return shop


def shop_diagnose(*, domain: str, now: datetime, today: date, probe: bool = False) -> Diagnosis:
    """The shop's facts, problems (each with its catalogue fix), recent failed calls and, with
    `probe`, a live re-verification of its Klaviyo key and list. Raises ShopUnknown."""
    found = shop_for_domain(domain=domain)
    shop = shops_ranked(now=now).get(pk=found.pk)
    facts = facts_for([shop], now=now)[0]
    problems = problems_for(facts, now=now, today=today)
    result = Diagnosis(facts=facts, problems=problems, failures=_failures(shop),
                       revision=revision_status(today=today), webhooks=_failed_webhooks(shop))
    if probe and facts.connection is not None and facts.connection.has_key:
        result.probe = _probe(facts)
        result.problems = _with_probe(problems, result.probe)
    return result


def _failures(shop: Shop) -> list[Failure]:
    rows = (SyncAttempt.objects.filter(shop=shop).exclude(error_kind="")
            .order_by("-created_at")[:RECENT_FAILURES])
    return [Failure(a.created_at, a.operation, a.status_code, a.error_kind, a.error_code,
                    a.error_detail, a.error_pointer, a.klaviyo_error_id,
                    entry("klaviyo", a.error_kind)) for a in rows]


def _failed_webhooks(shop: Shop) -> list[FailedWebhook]:
    rows = (WebhookEvent.objects.filter(shop_domain=shop.domain, state=WebhookEvent.State.FAILED)
            .order_by("-received_at").only("received_at", "topic", "webhook_id", "last_error")
            [:RECENT_FAILURES])
    return [FailedWebhook(w.received_at, w.topic, w.webhook_id, w.last_error[:300],
                          entry("webhook", webhook_kind(w.last_error))) for w in rows]


def _probe(facts: Facts) -> Probe:
    connection = facts.connection
    assert connection is not None
    try:
        client = client_for(connection)
    except crypto.SecretDecryptionError:
        refused = ConnectionRefused("decrypt_failed")
        return Probe(ok=False, kind=refused.kind, sentence=refused.sentence)
    try:
        verified = key_verify(client=client)
    except ConnectionRefused as verify_refused:
        return Probe(ok=False, kind=verify_refused.kind, sentence=verify_refused.sentence,
                     missing_scopes=verify_refused.missing_scopes)
    result = Probe(ok=True, account_name=verified.account_name)
    if connection.list_id:
        try:
            client.get_list(connection.list_id)
            result.list_ok = True
        except KlaviyoNotFoundError:
            result.ok, result.list_ok = False, False
            result.kind, result.sentence = "not_found", entry("klaviyo", "not_found").fix
        except KlaviyoError as error:
            result.ok, result.kind = False, error.kind
            result.sentence = entry("klaviyo", error.kind).fix
    return result


def _with_probe(problems: list[Problem], probe: Probe) -> list[Problem]:
    """Add what the live probe found unless a stored problem already says it."""
    if probe.ok:
        return problems
    if any(p.severity == "action" and p.entry.kind == probe.kind for p in problems):
        return [Problem(p.severity, p.entry, p.detail + " (confirmed by a live probe)",
                        probe.sentence or p.sentence)
                if p.entry.kind == probe.kind and p.severity == "action" else p
                for p in problems]
    detail = "live probe: " + (", ".join(probe.missing_scopes) + " missing"
                               if probe.missing_scopes else probe.kind)
    severity = "warning" if probe.kind in {"klaviyo_unavailable", "rate_limited",
                                           "edge_blocked", "unavailable"} else "action"
    added = Problem(severity, entry("klaviyo", probe.kind), detail, probe.sentence)
    return sorted([added, *problems], key=lambda p: p.severity != "action")
