"""The one sentence a shopper's timeline ends in: "Sent at …" or "Not sent because …" + the fix.

Decided from the rows the pipeline keeps, newest first: a restock delivery that went out wins
(Klaviyo accepted the "Back in Stock" event, which is what triggers the merchant's flow — unless
the flow check found no live flow, which the sentence then says with its fix); else
the subscription's own end (erased, cancelled); else the newest restock's delivery (failed,
skipped, still queued and why); else the alert is still waiting for a restock, with whatever
stands in the way of it going out when one comes (a failed profile sync, a paused connection).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from integrations.klaviyo.models import KlaviyoConnection
from notifyme.restocks.models import RestockDelivery
from notifyme.subscriptions.models import Subscription
from notifyme.support.explain import Explanation, explain

NOTHING_TO_FIX = "Nothing to fix."


@dataclass(frozen=True)
class Outcome:
    sent: bool
    sentence: str
    fix: str


def when(moment: datetime | None) -> str:
    """A time as support reads it everywhere on these pages (UTC, to the second)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "an unknown time"


def subscription_outcome(
    *, subscription: Subscription, deliveries: Sequence[RestockDelivery],
    connection: KlaviyoConnection | None, failure: Explanation | None,
) -> Outcome:
    """The outcome of one alert. `deliveries`: its restock deliveries, newest restock first
    (with `restock` loaded); `failure`: the explanation of the newest failed Klaviyo call
    that carried it (None when none failed)."""
    sent = [d for d in deliveries if d.state == RestockDelivery.State.SENT]
    if sent:
        last = max(sent, key=lambda d: d.sent_at or d.restock.started_at)
        accepted = (f"Sent at {when(last.sent_at)}: Klaviyo accepted the Back in Stock event of "
                    f"restock #{last.restock_id}")
        if connection is not None and connection.flow_alarm:
            # Accepted is not emailed: the flow check found no live flow on the metric.
            no_flow = explain(source="klaviyo", kind="flow_not_live")
            return Outcome(True, f"{accepted}, but no live flow in the merchant's Klaviyo turns "
                                 "it into an email (checked "
                                 f"{when(connection.flow_checked_at)}).", no_flow.fix)
        return Outcome(True, f"{accepted}, which triggers the merchant's flow.", NOTHING_TO_FIX)
    if subscription.status == Subscription.Status.REDACTED:
        return Outcome(False, "Not sent because the shopper's data was erased on a privacy "
                              f"request at {when(subscription.redacted_at)}.", NOTHING_TO_FIX)
    if subscription.status == Subscription.Status.UNSUBSCRIBED:
        return Outcome(False, "Not sent because the shopper cancelled the alert at "
                              f"{when(subscription.unsubscribed_at)}.", NOTHING_TO_FIX)
    if deliveries:
        return _delivery_outcome(deliveries[0], connection, failure)
    if subscription.status == Subscription.Status.NOTIFIED:
        return Outcome(True, f"Sent at {when(subscription.notified_at)} (marked notified; "
                             "no restock delivery row is kept for it).", NOTHING_TO_FIX)
    return _waiting_outcome(subscription, connection, failure)


def _delivery_outcome(delivery: RestockDelivery, connection: KlaviyoConnection | None,
                      failure: Explanation | None) -> Outcome:
    restock = f"restock #{delivery.restock_id}"
    if delivery.state == RestockDelivery.State.FAILED:
        fix = failure.fix if failure else explain(source="klaviyo", kind="bad_request").fix
        return Outcome(False, f"Not sent because Klaviyo refused the event of {restock}: "
                              f"{_reason(delivery.last_error)}", fix)
    if delivery.state == RestockDelivery.State.SKIPPED:
        return Outcome(False, f"Not sent because {restock} skipped this shopper: "
                              f"{_reason(delivery.last_error or 'no reason recorded')}",
                       NOTHING_TO_FIX)
    paused = _paused(connection)
    if paused is not None:
        return Outcome(False, f"Not sent yet because {restock} is waiting for the shop's "
                              f"Klaviyo sync, which is paused: {paused.explanation}", paused.fix)
    if delivery.available_at is None:
        return Outcome(False, f"Not sent yet because {restock} sends in batches and this "
                              "shopper's batch is not released yet.", NOTHING_TO_FIX)
    reason = f" (last try: {_reason(delivery.last_error)})" if delivery.last_error else ""
    return Outcome(False, f"Not sent yet because {restock} has it queued; next try at "
                          f"{when(delivery.available_at)}{reason}.", NOTHING_TO_FIX)


def _waiting_outcome(subscription: Subscription, connection: KlaviyoConnection | None,
                     failure: Explanation | None) -> Outcome:
    waiting = (f"Not sent because {subscription.variant} has not come back in stock since "
               f"the signup on {when(subscription.created_at)}")
    if subscription.sync_state == Subscription.SyncState.FAILED:
        fix = failure.fix if failure else explain(source="klaviyo", kind="bad_request").fix
        return Outcome(False, f"{waiting}, and the shopper's Klaviyo profile sync failed: "
                              f"{_reason(subscription.sync_error)}", fix)
    paused = _paused(connection)
    if paused is not None:
        return Outcome(False, f"{waiting}, and the shop's Klaviyo sync is paused: "
                              f"{paused.explanation}", paused.fix)
    return Outcome(False, f"{waiting}; the alert goes out on the next restock.",
                   NOTHING_TO_FIX)


def _paused(connection: KlaviyoConnection | None) -> Explanation | None:
    """Why the shop's sync is not running, or None when it is."""
    if connection is not None and connection.is_syncing:
        return None
    if connection is None or connection.status == KlaviyoConnection.Status.DISCONNECTED:
        return explain(source="klaviyo", kind="not_connected")
    return explain(source="klaviyo", kind=connection.last_error_kind or "unknown")


def _reason(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else text + "."
