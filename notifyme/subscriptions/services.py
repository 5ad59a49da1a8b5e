"""Writes to subscriptions. Every state change and the work it causes commit together.

The request that creates or ends a subscription never talks to Klaviyo: each write fires a
lifecycle hook (`hooks.subscription_changed`) inside its transaction, where the sync app records
its outbox row; the worker nudge waits for the commit and is best effort (a Redis outage is
logged and the sweeper catches up).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from notifyme.catalog.models import Variant
from notifyme.shops.models import Shop
from notifyme.subscriptions.hooks import Lifecycle, subscription_changed
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.selectors import subscription_find_active


def subscription_create(
    *,
    shop: Shop,
    variant: Variant,
    email: str = "",
    email_display: str = "",
    phone: str = "",
    first_name: str = "",
    marketing_consent: bool = False,
    consent_text_version: str = "",
    sms_consent: bool = False,
    sms_consent_text_version: str = "",
    locale: str = "",
    shopify_customer_id: int | None = None,
    quantity_wanted: int = 1,
    source: str = Subscription.Source.STOREFRONT,
    signed_up_at: datetime | None = None,
) -> tuple[Subscription, bool]:
    """Subscribe a contact to a variant; return `(subscription, created)`.

    Inputs must already be validated and normalised (`email` by `emails.email_normalize`,
    E.164 phone); `email_display` is the address as typed (defaults to `email`). Consent is per
    channel and only recorded for a channel whose contact was given: `marketing_consent` (with
    `consent_text_version`) for email marketing, `sms_consent` (with
    `sms_consent_text_version`) for SMS marketing, each stamped with the time it was given.
    When an active subscription exists for shop + variant + (email or phone), it is returned
    with `created=False` and nothing is written: the INSERT is tried first and the partial
    unique constraints refuse it (IntegrityError, caught here), so a new signup — the common
    case, and the storefront's hot path — costs no lookup, and a concurrent request that wins
    the race is handled the same way. Otherwise the row and a `CREATED` lifecycle hook (the
    outbox row) are written in one transaction.

    `signed_up_at` (an imported waitlist row's original time, never in the future) replaces
    "now" as the signup time and the consent time of each channel consented, so an imported
    shopper keeps the consent record the other app took.
    """
    if variant.shop_id != shop.pk:
        raise ValueError("variant belongs to another shop")
    if not email and not phone:
        raise ValueError("a subscription needs an email or a phone")
    now = signed_up_at or timezone.now()
    email_consent = marketing_consent and bool(email)
    sms_consent = sms_consent and bool(phone)
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create(
                shop=shop,
                variant=variant,
                email=email,
                email_display=(email_display or email) if email else "",
                phone=phone,
                first_name=first_name,
                notify_by_email=bool(email),
                notify_by_sms=bool(phone),
                marketing_consent=email_consent,
                consent_text_version=consent_text_version if email_consent else "",
                consented_at=now if email_consent else None,
                sms_consent=sms_consent,
                sms_consent_text_version=sms_consent_text_version if sms_consent else "",
                sms_consented_at=now if sms_consent else None,
                source=source,
                locale=locale,
                shopify_customer_id=shopify_customer_id,
                quantity_wanted=quantity_wanted,
            )
            if signed_up_at is not None:  # auto_now_add stamps "now" on the INSERT
                Subscription.objects.filter(pk=subscription.pk).update(created_at=signed_up_at)
                subscription.created_at = signed_up_at
            subscription_changed(subscription=subscription, event=Lifecycle.CREATED)
    except IntegrityError:
        existing = subscription_find_active(shop=shop, variant=variant, email=email, phone=phone)
        if existing is None:
            raise
        return existing, False
    return subscription, True


def subscription_unsubscribe(*, subscription: Subscription, marketing: bool = False) -> bool:
    """Cancel an active or notified alert; return False when nothing changed.

    Cancelling an alert never touches marketing consent: the UNSUBSCRIBE outbox row only takes
    the shopper off the merchant's list once no alert of theirs is left at the shop.
    `marketing=True` is the explicit "unsubscribe me from marketing" as well: it stamps
    `marketing_withdrawn_at` on every subscription of this shopper at the shop (same email or
    phone), and the outbox row then withdraws email and SMS marketing consent in Klaviyo too —
    also for an alert that had already ended.

    Idempotent: a redacted subscription, or an ended one with nothing more to withdraw, is
    left as it is and no outbox row is written. Otherwise the changes and one UNSUBSCRIBE outbox
    row commit together (the `WITHDRAWN` hook writes it; the row is locked so concurrent clicks
    write one).
    """
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        ended = locked.status == Subscription.Status.UNSUBSCRIBED
        withdraw = marketing and locked.marketing_withdrawn_at is None
        if locked.status == Subscription.Status.REDACTED or (ended and not withdraw):
            _refresh(subscription, locked)
            return False
        now = timezone.now()
        fields = ["sync_state", "updated_at"]
        if not ended:
            locked.status = Subscription.Status.UNSUBSCRIBED
            locked.unsubscribed_at = now
            fields += ["status", "unsubscribed_at"]
        if withdraw:
            locked.marketing_withdrawn_at = now
            fields.append("marketing_withdrawn_at")
            _same_shopper(locked).filter(marketing_withdrawn_at__isnull=True).update(
                marketing_withdrawn_at=now)
        locked.sync_state = Subscription.SyncState.PENDING
        locked.save(update_fields=fields)
        subscription_changed(subscription=locked, event=Lifecycle.WITHDRAWN)
    _refresh(subscription, locked)
    return True


def _same_shopper(sub: Subscription) -> QuerySet[Subscription]:
    """The shop's other subscriptions with this subscription's email or phone."""
    contact = Q()
    if sub.email:
        contact |= Q(email=sub.email)
    if sub.phone:
        contact |= Q(phone=sub.phone)
    return Subscription.objects.filter(contact, shop_id=sub.shop_id).exclude(pk=sub.pk)


def subscription_redact(*, subscription: Subscription) -> bool:
    """Erase the shopper's personal data (privacy request); return False if already redacted.

    Status → redacted with `redacted_at`; email, phone, first name and customer id are blanked;
    the `ERASED` hook fires in the same transaction. `klaviyo_profile_id` is kept so the
    sync engine can ask Klaviyo to delete that profile (it holds no contact data itself).
    """
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if locked.status == Subscription.Status.REDACTED:
            _refresh(subscription, locked)
            return False
        locked.status = Subscription.Status.REDACTED
        locked.redacted_at = timezone.now()
        locked.email = ""
        locked.email_display = ""
        locked.phone = ""
        locked.first_name = ""
        locked.shopify_customer_id = None
        locked.sync_state = Subscription.SyncState.PENDING
        locked.save(
            update_fields=["status", "redacted_at", "email", "email_display", "phone",
                           "first_name", "shopify_customer_id", "sync_state", "updated_at"]
        )
        subscription_changed(subscription=locked, event=Lifecycle.ERASED)
    _refresh(subscription, locked)
    return True


def subscription_requeue_sync(*, subscription: Subscription) -> bool:
    """Send an active subscription again (support action: the `CHANGED` hook); False otherwise."""
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if locked.status != Subscription.Status.ACTIVE:
            return False
        locked.sync_state = Subscription.SyncState.PENDING
        locked.save(update_fields=["sync_state", "updated_at"])
        subscription_changed(subscription=locked, event=Lifecycle.CHANGED)
    _refresh(subscription, locked)
    return True


def _refresh(target: Subscription, source: Subscription) -> None:
    """Copy the locked row's field values onto the caller's instance."""
    for model_field in Subscription._meta.concrete_fields:
        setattr(target, model_field.attname, getattr(source, model_field.attname))
