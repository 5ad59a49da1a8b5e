"""Is a live Klaviyo flow sending the Back in Stock emails? Check it, and create one on request.

"Connected and syncing" only means Klaviyo accepts the events; an email goes out only when a
*live* flow is triggered by the "Back in Stock" metric. Klaviyo's `GET /api/flows` cannot be
filtered by trigger, so the check goes through the metric: `GET /api/metrics` (pages read until
the metric called "Back in Stock" is found; Klaviyo creates it with the first event) →
`GET /api/metrics/{id}/flow-triggers` (each flow's status: draft, manual or live). That needs
the optional scopes `metrics:read` and `flows:read`; without them the answer is "cannot tell",
with the scope to add. `flow_create` posts a ready flow (`POST /api/flows`, `flows:write`):
the metric trigger and one email, created as a draft as Klaviyo always does, for the merchant
to design and set live.

The result is kept on the connection (`flow_*` fields) so pages never call Klaviyo: it is
refreshed after a connect (hook), by the merchant's "Check again", after a create, and at most
hourly by the sweeper (`flow_checks_due`). `flow_alarm` is set when events were accepted in the
last 7 days but no live flow sends them: support's board and `doctor` raise it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from integrations.klaviyo.attempts import attempt_recorder
from integrations.klaviyo.client import BACK_IN_STOCK_METRIC, KlaviyoClient
from integrations.klaviyo.errors import KlaviyoError, KlaviyoScopeError
from integrations.klaviyo.messages import sentence_for
from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt
from notifyme.core import crypto

logger = logging.getLogger(__name__)

State = KlaviyoConnection.FlowState
#: What reading the flow's state takes (both optional: `scopes.OPTIONAL_SCOPES`).
CHECK_SCOPES = ("metrics:read", "flows:read")
CREATE_SCOPE = "flows:write"
CHECK_EVERY = timedelta(hours=1)
ALARM_WINDOW = timedelta(days=7)
ALARM_STATES = frozenset({State.NOT_LIVE, State.NO_FLOW})
EVENT_OPERATIONS = ("create_event", "bulk_create_events")
FLOW_NAME = "Back in Stock (notifyme)"
FLOW_SUBJECT = "{{ event.product_title }} is back in stock"
FLOW_FIELDS = ["flow_state", "flow_checked_at", "flow_flows", "flow_metric_id", "flow_alarm",
               "updated_at"]


#: Why the flow could not be created, one sentence each for the merchant (the panel's error).
CREATE_SENTENCES: dict[str, str] = {
    "flow_scope_missing": (
        "Creating the flow needs a Klaviyo key with the Flows permission set to Full Access. "
        "Create such a key in Klaviyo (Settings → API keys) and reconnect with it, or build the "
        "flow yourself with the steps below."),
    "flow_no_metric": (
        "Klaviyo creates the Back in Stock metric with the first restock alert, and a flow can "
        "only be built on it after that. Try again after your first restock."),
    "flow_create_failed": (
        "Klaviyo did not create the flow. Try again in a minute, or build it yourself with the "
        "steps below."),
}


class FlowCreateRefused(Exception):
    """The flow cannot be created; `kind` keys the merchant's sentence."""

    def __init__(self, kind: str, sentence: str | None = None) -> None:
        self.kind = kind
        self.sentence = sentence or CREATE_SENTENCES.get(kind) or sentence_for(kind)
        super().__init__(self.sentence)


def missing_check_scopes(connection: KlaviyoConnection) -> list[str]:
    held = set(connection.scopes_verified or [])
    return [scope for scope in CHECK_SCOPES if scope not in held]


def can_create(connection: KlaviyoConnection) -> bool:
    return CREATE_SCOPE in set(connection.scopes_verified or [])


def events_accepted_since(connection: KlaviyoConnection, since: datetime) -> bool:
    return SyncAttempt.objects.filter(
        shop_id=connection.shop_id, operation__in=EVENT_OPERATIONS, error_kind="",
        purpose=SyncAttempt.Purpose.SYNC, created_at__gte=since).exists()


def flow_check(*, connection: KlaviyoConnection, now: datetime | None = None
               ) -> KlaviyoConnection:
    """Ask Klaviyo which flows the Back in Stock metric triggers; store the answer on the
    connection (never raises for Klaviyo's answers: they become the state)."""
    now = now or timezone.now()
    flows: list[dict[str, Any]] = []
    metric_id = ""
    if connection.status != KlaviyoConnection.Status.CONNECTED or not connection.has_key:
        state = ""
    elif missing_check_scopes(connection):
        state = State.NO_SCOPE
    else:
        try:
            client = _client(connection)
            metric = client.find_metric(BACK_IN_STOCK_METRIC)
            if metric is None:
                state = State.NO_METRIC
            else:
                metric_id = str(metric["id"])
                flows = [_flow_summary(f) for f in client.flows_triggered_by_metric(metric_id)]
                live = [f for f in flows if f["status"] == "live" and not f["archived"]]
                state = State.LIVE if live else (State.NOT_LIVE if flows else State.NO_FLOW)
        except KlaviyoScopeError:
            state = State.NO_SCOPE  # the key lost the scope since it was verified
        except (KlaviyoError, crypto.SecretDecryptionError) as error:
            logger.info("klaviyo flow check failed shop_id=%s kind=%s", connection.shop_id,
                        getattr(error, "kind", type(error).__name__))
            state = State.UNAVAILABLE
    connection.flow_state = state
    connection.flow_checked_at = now
    connection.flow_flows = flows
    connection.flow_metric_id = metric_id
    connection.flow_alarm = state in ALARM_STATES and events_accepted_since(
        connection, now - ALARM_WINDOW)
    connection.save(update_fields=FLOW_FIELDS)
    return connection


def flow_create(*, connection: KlaviyoConnection) -> KlaviyoConnection:
    """Create the ready Back in Stock flow (a draft) and check again, so it shows at once.
    Raises FlowCreateRefused: no `flows:write`, no metric yet, or Klaviyo's refusal."""
    if not can_create(connection):
        raise FlowCreateRefused("flow_scope_missing")
    flow_check(connection=connection)
    if connection.flow_state == State.NO_SCOPE:
        raise FlowCreateRefused("flow_scope_missing")
    if connection.flow_state == State.NO_METRIC or not connection.flow_metric_id:
        raise FlowCreateRefused("flow_no_metric")
    try:
        _client(connection).create_flow(name=FLOW_NAME, metric_id=connection.flow_metric_id,
                                        subject=FLOW_SUBJECT)
    except KlaviyoError as error:
        raise FlowCreateRefused(error.kind if isinstance(error, KlaviyoScopeError)
                                else "flow_create_failed",
                                sentence_for(error) if isinstance(error, KlaviyoScopeError)
                                else None) from None
    except crypto.SecretDecryptionError:
        raise FlowCreateRefused("decrypt_failed") from None
    logger.info("klaviyo flow created shop_id=%s", connection.shop_id)
    return flow_check(connection=connection)


def flow_checks_due(*, now: datetime) -> QuerySet[KlaviyoConnection]:
    """Connected shops whose flow state is older than `CHECK_EVERY` (or never checked)."""
    stale = Q(flow_checked_at__isnull=True) | Q(flow_checked_at__lt=now - CHECK_EVERY)
    return KlaviyoConnection.objects.filter(
        stale, status=KlaviyoConnection.Status.CONNECTED).order_by("flow_checked_at", "pk")


def flow_forget(connection: KlaviyoConnection) -> None:
    """A disconnect: the flow state belonged to the key's account."""
    connection.flow_state, connection.flow_checked_at = "", None
    connection.flow_flows, connection.flow_metric_id, connection.flow_alarm = [], "", False


def _client(connection: KlaviyoConnection) -> KlaviyoClient:
    """The connection's key (raises SecretDecryptionError), calls recorded for support."""
    return KlaviyoClient(connection.get_private_key(), observer=attempt_recorder(
        shop=connection.shop, purpose=SyncAttempt.Purpose.CONNECT))


def _flow_summary(flow: dict[str, Any]) -> dict[str, Any]:
    attributes = flow.get("attributes") or {}
    return {"id": str(flow.get("id", "")), "name": str(attributes.get("name") or ""),
            "status": str(attributes.get("status") or ""),
            "archived": bool(attributes.get("archived"))}
