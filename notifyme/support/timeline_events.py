"""One timeline entry per row the pipeline kept: a signup, a Klaviyo call, a sync work row, a
restock and this shopper's delivery in it, a webhook that moved the variant's stock.

Only what support needs to answer "why (not)?": no secret ever (the call log holds none), the
shopper's own contact only as they typed it, and the merchant-facing fix next to each error.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from integrations.klaviyo.models import SyncAttempt
from notifyme.restocks.models import Restock, RestockDelivery
from notifyme.subscriptions.models import Subscription
from notifyme.support.explain import Explanation, explain, record_kind
from notifyme.support.outcome import when
from notifyme.sync.models import OutboxItem
from notifyme.webhooks.models import WebhookEvent

OK, ERROR, INFO, PROBE, PENDING = "ok", "error", "info", "probe", "pending"


@dataclass
class Event:
    """One line of the timeline. `tone`: ok | error | info | probe | pending."""

    at: datetime
    kind: str
    title: str
    tone: str
    alert: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)
    fix: str = ""
    #: A call's request as sent (shown folded: it can be long).
    request: str = ""

    def add(self, label: str, value: Any) -> None:
        if value not in (None, ""):
            self.details.append((label, str(value)))


def call_explanation(attempt: SyncAttempt) -> Explanation:
    """What a failed call means and its fix: the finer record kind when the pointer names a
    field (an invalid phone), else the kind's, with the fix sentence stored on the call."""
    kind = record_kind(kind=attempt.error_kind, pointer=attempt.error_pointer)
    found = explain(source="klaviyo", kind=kind)
    if kind != attempt.error_kind or not attempt.fix:
        return found
    return replace(found, fix=attempt.fix)


def signup_event(sub: Subscription) -> Event:
    event = Event(sub.created_at, "signup", f"Signed up for {sub.variant}", INFO, str(sub.variant))
    event.add("Source", sub.get_source_display())
    event.add("Contact", ", ".join(c for c in (sub.email_display or sub.email, sub.phone) if c))
    channels = [name for name, on in (("email", sub.notify_by_email), ("SMS", sub.notify_by_sms))
                if on]
    event.add("Alert by", " and ".join(channels))
    event.add("Email marketing consent", _consent(sub.marketing_consent,
                                                   sub.consent_text_version, sub.consented_at))
    event.add("SMS marketing consent", _consent(sub.sms_consent, sub.sms_consent_text_version,
                                                 sub.sms_consented_at))
    event.add("Shopify customer id", sub.shopify_customer_id)
    event.add("Klaviyo profile id", sub.klaviyo_profile_id)
    event.add("Locale", sub.locale)
    event.add("Status now", f"{sub.get_status_display()}; {sub.get_sync_state_display()}")
    return event


def _consent(given: bool, version: str, at: datetime | None) -> str:
    if not given:
        return "not given"
    return f"given at {when(at)} (consent text version {version or 'not recorded'})"


def call_event(attempt: SyncAttempt, alerts: list[str]) -> Event:
    """A Klaviyo call that carried this shopper (`alerts`: which of their alerts)."""
    status = str(attempt.status_code) if attempt.status_code else "no response"
    if attempt.purpose == SyncAttempt.Purpose.PROBE:
        tone = ERROR if not attempt.ok else PROBE
    else:
        tone = OK if attempt.ok else ERROR
    batch = f" (batch of {attempt.records})" if attempt.records > 1 else ""
    event = Event(attempt.created_at, "call",
                  f"Klaviyo {attempt.operation}{batch} → {status}", tone, ", ".join(alerts))
    event.add("Purpose", attempt.get_purpose_display())
    event.add("Request", f"{attempt.method} {attempt.path}")
    event.add("Klaviyo error code", attempt.error_code)
    event.add("Detail", attempt.error_detail)
    event.add("Pointer", attempt.error_pointer)
    event.add("Klaviyo error id", attempt.klaviyo_error_id)
    event.add("Duration", f"{attempt.duration_ms} ms")
    event.add("Attempt", f"#{attempt.retry_count + 1}")
    if not attempt.ok and attempt.records > 1 and attempt.error_pointer:
        event.add("Batch", "Klaviyo's pointer names the record it refused; the other records "
                           "of the batch were sent again without it.")
    event.request = attempt.request_summary
    if not attempt.ok:
        event.fix = call_explanation(attempt).fix
    return event


def outbox_events(item: OutboxItem, alert: str) -> list[Event]:
    """The sync work row: queued, and its end or its next try."""
    queued = Event(item.created_at, "sync", f"Queued for Klaviyo: {item.get_kind_display()}",
                   INFO, alert)
    queued.add("Failed tries", item.attempts or None)
    events = [queued]
    if item.state == OutboxItem.State.FAILED:
        done = Event(item.completed_at or item.available_at, "sync", "Klaviyo sync failed",
                     ERROR, alert)
        done.add("Reason", item.last_error)
        events.append(done)
    elif item.state == OutboxItem.State.DONE and item.completed_at:
        events.append(Event(item.completed_at, "sync", "Klaviyo sync complete", OK, alert))
    elif item.state in (OutboxItem.State.PENDING, OutboxItem.State.WAITING):
        later = Event(item.available_at, "sync", f"Next sync try at {when(item.available_at)}",
                      PENDING, alert)
        later.add("State", item.get_state_display())
        later.add("Last error", item.last_error)
        events.append(later)
    return events


def restock_event(restock: Restock, delivery: RestockDelivery | None, alert: str) -> Event:
    event = Event(restock.started_at, "restock",
                  f"Restock #{restock.pk}: back in stock ({restock.quantity} available)",
                  INFO, alert)
    event.add("Restock", f"{restock.get_state_display()}; sent {restock.sent} of "
                         f"{restock.total}, failed {restock.failed}, skipped {restock.skipped}")
    if delivery is None:
        event.add("This shopper", "not part of this restock (signed up later, or in cool-down)")
    return event


def delivery_event(delivery: RestockDelivery, alert: str) -> Event:
    restock = f"restock #{delivery.restock_id}"
    state = delivery.state
    if state == RestockDelivery.State.SENT:
        event = Event(delivery.sent_at or delivery.restock.started_at, "delivery",
                      f"Back in Stock event accepted by Klaviyo ({restock})", OK, alert)
    elif state == RestockDelivery.State.PENDING:
        at = delivery.available_at or delivery.restock.started_at
        title = (f"Next try at {when(delivery.available_at)} ({restock})"
                 if delivery.available_at else f"Waiting for its batch ({restock})")
        event = Event(at, "delivery", title, PENDING, alert)
    else:
        event = Event(delivery.restock.finished_at or delivery.restock.started_at, "delivery",
                      f"Back in Stock event {delivery.get_state_display().lower()} ({restock})",
                      ERROR if state == RestockDelivery.State.FAILED else INFO, alert)
    event.add("Position in line", delivery.position)
    event.add("Tries", delivery.attempts or None)
    event.add("Last error", delivery.last_error)
    event.add("Klaviyo unique_id", delivery.unique_id)
    return event


def webhook_event(hook: WebhookEvent, alert: str) -> Event:
    payload = hook.payload if isinstance(hook.payload, dict) else {}
    tone = ERROR if hook.state == WebhookEvent.State.FAILED else INFO
    event = Event(hook.received_at, "webhook", f"Shopify webhook {hook.topic}", tone, alert)
    event.add("Available", payload.get("available"))
    event.add("Location", payload.get("location_id"))
    event.add("State", hook.state)
    event.add("Outcome", hook.outcome or hook.last_error)
    event.add("Webhook id", hook.webhook_id)
    return event
