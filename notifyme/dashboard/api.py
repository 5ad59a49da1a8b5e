"""The JSON API behind the settings page (`/app/api/klaviyo*`), bearer-authenticated.

Errors use the app's envelope (notifyme/core/http.py): `{"error": {"code", "message", "fields"?,
"missing_scopes"?, "reason"?}}`. 400 = the request itself is malformed (names the field: not an
object, wrong type, unknown field, control characters or unpaired surrogates, too long), 413 = too
large, 422 = Klaviyo refused / verification failed (`invalid_key`, `missing_scopes`,
`list_not_found`, `klaviyo_unavailable`, `not_connected`). Every input is checked before anything
is sent to Klaviyo. No endpoint ever returns or echoes the private key.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.views.decorators.debug import sensitive_variables

from integrations.klaviyo import selectors, services
from notifyme.core.http import InputError, fields_only, json_object_read, text_value
from notifyme.dashboard.endpoint import merchant_endpoint
from notifyme.shops.auth import EmbeddedRequest
from notifyme.sync.selectors import sync_status

# Klaviyo's own bounds are smaller; these only keep absurd values out before any call.
KEY_MAX_LENGTH = 200
LIST_ID_MAX_LENGTH = 64
LIST_NAME_MAX_LENGTH = 100
LIST_NAME_MESSAGE = f"Enter a list name (up to {LIST_NAME_MAX_LENGTH} characters)."


def _no_body(request: EmbeddedRequest) -> None:
    """Endpoints without inputs still refuse a body that is not an empty JSON object."""
    fields_only(json_object_read(request), ())


def _status(request: EmbeddedRequest) -> JsonResponse:
    return JsonResponse(sync_status(shop=request.shop))


@merchant_endpoint("GET")
def status(request: EmbeddedRequest) -> HttpResponse:
    """GET /app/api/klaviyo — the status document."""
    return _status(request)


@merchant_endpoint("POST")
@sensitive_variables()
def connect(request: EmbeddedRequest) -> HttpResponse:
    """POST /app/api/klaviyo/connect `{"private_key": str, "list_id": str?}` — verify, then save."""
    data = json_object_read(request)
    fields_only(data, ("private_key", "list_id"))
    private_key = text_value(data, "private_key", max_length=KEY_MAX_LENGTH, required=True)
    list_id = text_value(data, "list_id", max_length=LIST_ID_MAX_LENGTH)
    services.connection_connect(
        shop=request.shop, private_key=private_key or "", list_id=list_id or None
    )
    return _status(request)


@merchant_endpoint("POST")
def disconnect(request: EmbeddedRequest) -> HttpResponse:
    """POST /app/api/klaviyo/disconnect — stop syncing, forget the key, keep pending work."""
    _no_body(request)
    services.connection_disconnect(shop=request.shop)
    return _status(request)


@merchant_endpoint("GET")
def lists(request: EmbeddedRequest) -> HttpResponse:
    """GET /app/api/klaviyo/lists — the account's lists to choose from, and the current one."""
    found = selectors.klaviyo_lists(shop=request.shop)
    current = selectors.connection_for_shop(shop=request.shop)
    return JsonResponse({"lists": found, "selected": current.list_id if current else None})


@merchant_endpoint("POST")
def list_set(request: EmbeddedRequest) -> HttpResponse:
    """POST /app/api/klaviyo/list `{"list_id": str}` or `{"create_name": str}` — change list."""
    data = json_object_read(request)
    fields_only(data, ("list_id", "create_name"))
    list_id = text_value(data, "list_id", max_length=LIST_ID_MAX_LENGTH)
    create_name = text_value(data, "create_name", max_length=LIST_NAME_MAX_LENGTH,
                             message=LIST_NAME_MESSAGE)
    if create_name is not None:
        if not create_name:
            raise InputError.for_field("create_name", LIST_NAME_MESSAGE)
    elif not list_id:
        raise InputError.for_field(
            "list_id", "Choose a list (list_id) or name a new one (create_name)."
        )
    services.connection_list_set(shop=request.shop, list_id=list_id, create_name=create_name)
    return _status(request)


@merchant_endpoint("POST")
def retest(request: EmbeddedRequest) -> HttpResponse:
    """POST /app/api/klaviyo/retest — verify the stored key and list again (halt or resume)."""
    _no_body(request)
    services.connection_retest(shop=request.shop)
    return _status(request)
