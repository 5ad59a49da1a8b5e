"""`POST /webhooks/shopify`: every topic Shopify sends, compliance topics included.

In this order, and nothing is parsed before the signature is checked:
1. POST only (405 otherwise);
2. the body is read raw, at most `WEBHOOK_MAX_BODY_BYTES` (413 beyond; read from the stream
   rather than `request.body`, whose `DATA_UPLOAD_MAX_MEMORY_SIZE` is sized for the storefront);
3. `X-Shopify-Hmac-Sha256` over those exact bytes, app secret then the previous one (401 on a
   bad or missing signature, one warning line, never the body; counted for the board by
   `signature_failures`, under the claimed shop only if it exists);
4. the delivery headers (400 naming the header);
5. one row stored (`intake.webhook_receive`), 200. A redelivery, a body that is not JSON and a
   topic the app does not handle all answer 200 too: Shopify would only retry them.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from integrations.shopify.signatures import webhook_signature_valid
from notifyme.core import logcontext
from notifyme.core.http import json_error
from notifyme.webhooks import conf, signature_failures
from notifyme.webhooks.intake import HeaderInvalid, delivery_headers, webhook_receive

logger = logging.getLogger(__name__)


def _body(request: HttpRequest) -> bytes | HttpResponse:
    limit = conf.max_body_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return json_error(400, "invalid_request", "The Content-Length header is not a number.",
                          {"Content-Length": ["not a number"]})
    too_large = json_error(413, "too_large", f"The body is larger than {limit} bytes.")
    if declared > limit:
        return too_large
    body = request.read(limit + 1)
    return too_large if len(body) > limit else body


@csrf_exempt
def shopify_webhook(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = json_error(405, "method_not_allowed", "Shopify webhooks are POSTed.")
        response["Allow"] = "POST"
        return response
    body = _body(request)
    if isinstance(body, HttpResponse):
        return body
    if not webhook_signature_valid(body, request.headers.get("X-Shopify-Hmac-Sha256")):
        logger.warning("webhook refused: bad or missing X-Shopify-Hmac-Sha256 (topic %r, "
                       "shop %r, %s bytes)", request.headers.get("X-Shopify-Topic", "")[:128],
                       request.headers.get("X-Shopify-Shop-Domain", "")[:255], len(body))
        signature_failures.failure_record(
            claimed_domain=request.headers.get("X-Shopify-Shop-Domain", ""), now=timezone.now())
        return json_error(401, "invalid_signature", "The X-Shopify-Hmac-Sha256 signature "
                                                    "does not match the body.",
                          {"X-Shopify-Hmac-Sha256": ["does not match"]})
    try:
        headers = delivery_headers(request.headers)
    except HeaderInvalid as error:
        return json_error(400, "invalid_header", error.message, {error.header: [error.message]})
    logcontext.bind_shop(headers.shop_domain)  # signed by Shopify
    webhook_receive(headers=headers, body=body)
    return JsonResponse({"status": "received"})
