"""The Klaviyo half of a `customers/redact`: one `KlaviyoErasure` work row, one job.

`erasure_run(erasure_id=...)` (the `sync` lane: a handful of calls, interactive priority)
claims the row under a lease and, for an installed shop whose Klaviyo connection is connected:
- the key has `data-privacy:write` (verified on connect, `scopes.OPTIONAL_SCOPES`): one
  `request_profile_deletion` per identifier — each Klaviyo profile id our rows recorded, the
  email, the phone (Klaviyo takes one identifier per job and deletes every profile it names).
  `deletions_done` keeps the progress, so a retry sends only the rest (a repeat would be
  harmless anyway). Outcome `deletion_requested`.
- otherwise (or Klaviyo answers 403 for the scope: it is then dropped from the connection's
  verified scopes): unsubscribe the email/phone from email and SMS marketing
  (`bulk_unsubscribe`) and take the profiles off the merchant's list; outcome `unsubscribed`
  and a `merchant_notice`: the profile itself remains in Klaviyo, and how to delete it.
Waits and failures follow the pipeline: a rate limit or a halted connection hands the row back
(due after the wait / at the reconnect: `erasures_resume`), an outage retries with backoff, a
refusal that waiting cannot fix finishes the row as `failed` with a notice. An uninstalled
shop's erasure is held (no Klaviyo call for an uninstalled shop) and goes on reinstall; a shop
without a Klaviyo key gets `not_connected` and a notice. Whatever the outcome, finishing wipes
the row's encrypted contact and profile ids, and any call-log detail quoting the contact.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import RedisError

from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.errors import (
    KlaviyoBadRequestError,
    KlaviyoError,
    KlaviyoForbiddenError,
    KlaviyoNotFoundError,
    KlaviyoScopeError,
)
from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt, syncing_filter
from notifyme.core import crypto
from notifyme.delivery import leasing, nudges
from notifyme.delivery.calls import Blocked, Delivery, Halted, bound
from notifyme.privacy import notices
from notifyme.privacy.models import ComplianceRequest, KlaviyoErasure
from notifyme.privacy.subjects import Subject
from notifyme.shops.models import Shop
from notifyme.sync.profile_fields import unsubscribe_entries

logger = logging.getLogger(__name__)
Outcome = ComplianceRequest.KlaviyoOutcome
DATA_PRIVACY = "data-privacy:write"
KIND, JOB, DELAYED_PREFIX = "privacy", "notifyme.privacy.jobs.erasure_run", "privacy-erasure"
LEASE_SECONDS = 60.0
HOLD_SECONDS = 600.0  # a held row is looked at again (the sweeper skips held shops anyway)
CONTACT_PURPOSE = "privacy_contact"
NOT_CONNECTED_NOTICE = notices.NOT_CONNECTED


def contact_encrypt(*, shop: Shop, subject: Subject) -> str:
    return crypto.encrypt(subject.as_json(), context=shop.secret_context(CONTACT_PURPOSE))


def _contact(item: KlaviyoErasure) -> Subject:
    return Subject.from_json(crypto.decrypt(
        item.contact_encrypted, context=item.shop.secret_context(CONTACT_PURPOSE)))


# -- nudges ---------------------------------------------------------------------------------------

def erasure_nudge(*, erasure_id: int, verify: bool = False) -> bool:
    """Enqueue the row's job (best effort: the sweeper finds due rows again)."""
    try:
        return nudges.enqueue_coalesced(kind=KIND, lane="sync", key=erasure_id, func=JOB,
                                        args=(erasure_id,), verify=verify)
    except Exception:
        logger.warning("could not nudge Klaviyo erasure #%s; the sweeper will", erasure_id)
        return False


def _later(erasure_id: int, seconds: float) -> None:
    try:
        nudges.later(DELAYED_PREFIX, erasure_id, seconds)
    except Exception:
        logger.warning("could not schedule Klaviyo erasure #%s; the sweeper will", erasure_id)


DELAYED = {DELAYED_PREFIX: lambda arg: erasure_nudge(erasure_id=int(arg))}


def _runnable() -> Q:
    return Q(shop__state=Shop.State.INSTALLED) & syncing_filter("shop__klaviyo_connection__")


def erasures_sweep() -> int:
    """The privacy handler's sweep: nudge due or stranded erasures of shops that can send."""
    due = leasing.due(KlaviyoErasure.objects.filter(_runnable())).values_list("id", flat=True)
    return sum(int(erasure_nudge(erasure_id=pk, verify=True)) for pk in due[:500])


def erasures_resume(*, shop_id: int) -> int:
    """Nudge the shop's pending erasures now (a reconnect, a reinstall); returns how many."""
    pending = KlaviyoErasure.objects.filter(shop_id=shop_id, state=KlaviyoErasure.State.PENDING)
    ids = list(pending.values_list("id", flat=True))
    pending.update(available_at=timezone.now())
    for pk in ids:
        transaction.on_commit(functools.partial(erasure_nudge, erasure_id=pk))
    return len(ids)


def erasures_resume_for_shop(*, shop: Shop) -> str | None:
    """The `shop_reinstalled` hook (see `erasures_resume`)."""
    count = erasures_resume(shop_id=shop.pk)
    return f"{count} Klaviyo erasures resumed" if count else None


# -- the job --------------------------------------------------------------------------------------

def erasure_run(*, erasure_id: int) -> str:
    """Carry one erasure to Klaviyo (module docstring); returns what happened."""
    token = leasing.new_token()
    if not leasing.claim(KlaviyoErasure.objects.filter(pk=erasure_id), limit=1,
                         lease_seconds=LEASE_SECONDS, token=token):
        return "not due"
    item = KlaviyoErasure.objects.select_related("shop", "request").get(pk=erasure_id)
    connection = KlaviyoConnection.objects.select_related("shop").filter(shop=item.shop).first()
    if item.shop.state != Shop.State.INSTALLED:
        return _hold(item, token, Outcome.HELD, notices.HELD_UNINSTALLED)
    if connection is None or not connection.has_key:
        return _finish(item, token, KlaviyoErasure.State.DONE, Outcome.NOT_CONNECTED,
                       notices.NOT_CONNECTED)
    if not connection.is_syncing:
        return _hold(item, token, Outcome.PENDING, notices.WAITING_FOR_CONNECTION)
    try:
        ctx = Delivery.open(connection)
        outcome, notice = _erase(ctx, item, _contact(item))
    except Blocked as blocked:
        leasing.release(KlaviyoErasure, [item.pk], token=token, delay=blocked.wait,
                        deletions_done=item.deletions_done)
        _later(item.pk, blocked.wait)
        return f"rate limited ({blocked.wait:.2f}s)"
    except Halted:
        return _hold(item, token, Outcome.PENDING, notices.WAITING_FOR_CONNECTION)
    except (KlaviyoError, RedisError) as error:
        if isinstance(error, RedisError) or error.retryable:
            retried = leasing.retry(KlaviyoErasure, [item.pk], token=token,
                                    error=type(error).__name__,
                                    deletions_done=item.deletions_done)
            _later(item.pk, retried.delay)
            return f"retry in {retried.delay:.0f}s"
        return _finish(item, token, KlaviyoErasure.State.FAILED, Outcome.FAILED,
                       notices.failed(error))
    except crypto.SecretDecryptionError:
        return _finish(item, token, KlaviyoErasure.State.FAILED, Outcome.FAILED,
                       notices.KEY_UNREADABLE)
    return _finish(item, token, KlaviyoErasure.State.DONE, outcome, notice)


def _erase(ctx: Delivery, item: KlaviyoErasure, contact: Subject) -> tuple[str, str]:
    if DATA_PRIVACY in (ctx.connection.scopes_verified or []):
        identifiers = [{"profile_id": pid} for pid in item.profile_ids]
        identifiers += [{"email": contact.email}] if contact.email else []
        identifiers += [{"phone": contact.phone}] if contact.phone else []
        for identifier in identifiers[item.deletions_done:]:
            if not _delete(ctx, identifier):
                _scope_lost(ctx.connection)
                break
            item.deletions_done += 1
        else:
            return Outcome.DELETION_REQUESTED, ""
    profile_ids = _unsubscribe(ctx, item, contact)
    return Outcome.UNSUBSCRIBED, notices.unsubscribed(profile_ids)


def _delete(ctx: Delivery, identifier: dict[str, str]) -> bool:
    """One deletion job; False when Klaviyo says the key lacks the scope (nothing halts)."""
    def send(client: KlaviyoClient) -> bool:
        try:
            client.request_profile_deletion(**identifier)
        except (KlaviyoScopeError, KlaviyoForbiddenError):
            return False
        return True

    return ctx.call("request_profile_deletion", send)


def _scope_lost(connection: KlaviyoConnection) -> None:
    connection.scopes_verified = [s for s in connection.scopes_verified if s != DATA_PRIVACY]
    connection.save(update_fields=["scopes_verified", "updated_at"])


def _unsubscribe(ctx: Delivery, item: KlaviyoErasure, contact: Subject) -> list[str]:
    """Withdraw marketing consent and leave the list; returns the profile ids that remain."""
    entries = unsubscribe_entries(email=contact.email, phone=contact.phone)
    if entries:
        ctx.call("bulk_unsubscribe", bound(KlaviyoClient.bulk_unsubscribe, entries,
                                           list_id=ctx.list_id))
    ids = list(item.profile_ids)
    if not ids and contact.contacts:
        found: list[dict[str, Any]] = ctx.call("get_profiles", lambda c: c.find_profiles(
            email=contact.email, phone=contact.phone))
        ids = [str(p.get("id")) for p in found if p.get("id")]
    if ids and ctx.list_id:
        try:
            ctx.call("remove_profiles_from_list", bound(
                KlaviyoClient.remove_profiles_from_list, ctx.list_id, ids))
        except (KlaviyoBadRequestError, KlaviyoNotFoundError):
            pass  # a profile or the list no longer exists: not on it either way
    return ids


def _hold(item: KlaviyoErasure, token: str, outcome: str, notice: str) -> str:
    leasing.release(KlaviyoErasure, [item.pk], token=token, delay=HOLD_SECONDS)
    ComplianceRequest.objects.filter(pk=item.request_id).update(
        klaviyo_outcome=outcome, merchant_notice=notice)
    return f"held: {outcome}"


def _finish(item: KlaviyoErasure, token: str, state: str, outcome: str, notice: str) -> str:
    with transaction.atomic():
        try:
            contacts = _contact(item).contacts if item.contact_encrypted else []
        except crypto.SecretDecryptionError:
            contacts = []
        quoting = Q(pk__in=[])
        for contact in contacts:
            quoting |= Q(error_detail__icontains=contact)
        SyncAttempt.objects.filter(quoting, shop=item.shop).update(
            error_detail="[erased: privacy request]")
        summaries = Q(pk__in=[])
        for contact in contacts:
            summaries |= Q(request_summary__icontains=contact)
        SyncAttempt.objects.filter(summaries, shop=item.shop).update(
            request_summary="[erased: privacy request]")
        if not leasing.complete(KlaviyoErasure, [item.pk], token=token, state=state,
                                contact_encrypted="", profile_ids=[]):
            return "lease lost"
        request = ComplianceRequest.objects.select_for_update().get(pk=item.request_id)
        request.klaviyo_outcome, request.merchant_notice = outcome, notice
        if not request.klaviyo_erasures.filter(state=KlaviyoErasure.State.PENDING).exists():
            request.state = ComplianceRequest.State.COMPLETED
            request.completed_at = timezone.now()
        request.save()
    logger.info("Klaviyo erasure #%s: %s", item.pk, outcome)
    return str(outcome)
