"""The storefront subscribe endpoint behind Shopify's app proxy (unsubscribe: unsubscribe_views).

Shopify strips cookies from proxied requests, so these views are CSRF-exempt; the signed query
(`notifyme.shops.proxy`) is what authenticates the shop. Contract: docs/storefront-api.md.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from notifyme.catalog.models import Variant
from notifyme.core.http import json_error
from notifyme.shops.proxy import AppProxyError, app_proxy_verify
from notifyme.subscriptions import abuse
from notifyme.subscriptions.forms import SubscribeInputInvalid, subscribe_input_validate
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.request_body import PayloadError, request_payload_read
from notifyme.subscriptions.selectors import variant_get_for_shop
from notifyme.subscriptions.services import subscription_create
from notifyme.subscriptions.typos import email_suggest

logger = logging.getLogger(__name__)


def variant_label(variant: Variant) -> str:
    """"Product — Variant", or just the product for Shopify's single "Default Title" variant."""
    title = variant.title.strip()
    if not title or title == "Default Title":
        return variant.product.title
    return f"{variant.product.title} — {title}"


def _channels_phrase(subscription: Subscription) -> str:
    if subscription.notify_by_email and subscription.notify_by_sms:
        return "email and text"
    return "email" if subscription.notify_by_email else "text"


def _unavailable_reason(variant: Variant) -> str:
    if not variant.inventory_tracked:
        return "This variant can be bought now: the shop does not track its stock."
    if variant.inventory_policy == Variant.InventoryPolicy.CONTINUE:
        return "This variant can be bought now, even while it is out of stock."
    return "This variant can be bought now: it is in stock."


def _rate_limited(error: abuse.RateLimited) -> HttpResponse:
    wait = error.retry_after
    when = f"{wait} seconds" if wait < 120 else f"{(wait + 59) // 60} minutes"
    response = json_error(429, "rate_limited", f"Too many attempts. Please try again in {when}.")
    response["Retry-After"] = str(wait)
    return response


@csrf_exempt
def subscribe(request: HttpRequest) -> HttpResponse:
    """POST /proxy/subscribe: store a back-in-stock request (201), or say it exists (200)."""
    if request.method != "POST":
        response = json_error(405, "method_not_allowed", "Send the form with POST.")
        response["Allow"] = "POST"
        return response
    try:
        proxy = app_proxy_verify(request)
    except AppProxyError as error:
        return error.as_json()
    try:
        abuse.subscribe_ip_check(ip=abuse.client_ip(request))
        data = request_payload_read(request)
        cleaned = subscribe_input_validate(data, default_country=proxy.shop.country_code)
        abuse.subscribe_contact_check(shop_id=proxy.shop.pk, contacts=cleaned.contacts)
    except abuse.RateLimited as error:
        return _rate_limited(error)
    except PayloadError as error:
        return json_error(error.status, error.code, error.message, error.fields or None)
    except SubscribeInputInvalid as error:
        return json_error(400, "invalid_fields", "Please correct the marked fields.", error.fields)

    variant = variant_get_for_shop(shop=proxy.shop, shopify_id=cleaned.variant_id)
    if variant is None:
        message = "This product option is not available for alerts."
        return json_error(404, "unknown_variant", message, {"variant_id": [message]})
    if not variant.accepts_alerts:
        message = _unavailable_reason(variant)
        return json_error(409, "variant_available", message, {"variant_id": [message]})

    subscription, created = subscription_create(
        shop=proxy.shop,
        variant=variant,
        email=cleaned.email,
        email_display=cleaned.email_display,
        phone=cleaned.phone,
        first_name=cleaned.first_name,
        marketing_consent=cleaned.marketing_consent,
        consent_text_version=cleaned.consent_text_version,
        sms_consent=cleaned.sms_consent,
        sms_consent_text_version=cleaned.sms_consent_text_version,
        locale=cleaned.locale,
        shopify_customer_id=proxy.logged_in_customer_id,
        quantity_wanted=cleaned.quantity,
        source=Subscription.Source.STOREFRONT,
    )
    # Ids only: contacts never go to the log.
    logger.info("storefront subscription %s %s (shop %s, variant %s)", subscription.pk,
                "created" if created else "already active", proxy.shop.pk, variant.pk)
    label = variant_label(variant)
    # Accepted as typed (the shopper may mean it); the form offers the likely fix.
    suggestion = email_suggest(cleaned.email_display) if cleaned.email_display else None
    hint = {"email_suggestion": suggestion} if suggestion else {}
    if not created:
        return JsonResponse({
            "status": "already_subscribed",
            "message": f"You're already on the list: we'll let you know when {label} is back.",
            **hint,
        })
    return JsonResponse(
        {
            **hint,
            "status": "subscribed",
            "message": (
                f"We'll {_channels_phrase(subscription)} you when {label} is back in stock."
            ),
            "subscription": {
                "id": subscription.pk,
                "variant_id": variant.shopify_id,
                "channels": [
                    name
                    for name, enabled in (
                        ("email", subscription.notify_by_email),
                        ("sms", subscription.notify_by_sms),
                    )
                    if enabled
                ],
                "status": subscription.status,
            },
        },
        status=201,
    )
