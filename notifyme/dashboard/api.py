"""The JSON API behind the settings page (`/app/api/klaviyo*`), bearer-authenticated.

Errors use the app's envelope: `{"error": {"code", "message", "fields"?, "missing_scopes"?}}`.
400 = the request itself is malformed (names the field), 422 = Klaviyo refused / verification
failed (`invalid_key`, `missing_scopes`, `list_not_found`, `klaviyo_unavailable`, `not_connected`).
No endpoint ever returns or echoes the private key. CSRF-exempt: no cookie authenticates these.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from integrations.klaviyo import selectors, services
from integrations.klaviyo.scopes import ConnectionRefused
from notifyme.shops.auth import embedded_api
from notifyme.sync.selectors import sync_status


class BadInput(Exception):
    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid_request"):
        self.message, self.field, self.code = message, field, code
        super().__init__(message)


def _error(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update({key: value for key, value in extra.items() if value})
    return JsonResponse({"error": body}, status=status)


def refused_response(refused: ConnectionRefused) -> JsonResponse:
    """422 with the machine code, the sentence, missing scopes and the field to blame."""
    return _error(
        422, refused.code, refused.sentence, reason=refused.kind,
        missing_scopes=refused.missing_scopes,
        fields={refused.field: [refused.sentence]} if refused.field else None,
        klaviyo_error_id=refused.error_id,
    )


def endpoint(*methods: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Bearer auth, JSON 405 for other methods, and BadInput/ConnectionRefused → JSON errors."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponse:
            if request.method not in methods:
                response = _error(405, "method_not_allowed", f"Use {' or '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request)
            except BadInput as exc:
                fields = {exc.field: [exc.message]} if exc.field else None
                return _error(400, exc.code, exc.message, fields=fields)
            except RequestDataTooBig:
                return _error(413, "too_large", "The request body is too large.")
            except ConnectionRefused as refused:
                return refused_response(refused)

        return csrf_exempt(embedded_api(wrapper))

    return decorate


@sensitive_variables()
def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise BadInput("The request body must be JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise BadInput("The request body must be a JSON object.", code="invalid_json")
    return data


def _optional_str(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise BadInput(f"{name} must be a string.", field=name)
    return value


def _status(request: HttpRequest) -> JsonResponse:
    return JsonResponse(sync_status(shop=request.shop))  # type: ignore[attr-defined]


@endpoint("GET")
def status(request: HttpRequest) -> HttpResponse:
    """GET /app/api/klaviyo — the status document."""
    return _status(request)


@endpoint("POST")
@sensitive_variables()
def connect(request: HttpRequest) -> HttpResponse:
    """POST /app/api/klaviyo/connect `{"private_key": str, "list_id": str?}` — verify, then save."""
    data = _body(request)
    private_key = data.get("private_key")
    if not isinstance(private_key, str):
        raise BadInput("private_key is required and must be a string.", field="private_key")
    list_id = _optional_str(data, "list_id")
    services.connection_connect(
        shop=request.shop, private_key=private_key, list_id=list_id or None  # type: ignore[attr-defined]
    )
    return _status(request)


@endpoint("POST")
def disconnect(request: HttpRequest) -> HttpResponse:
    """POST /app/api/klaviyo/disconnect — stop syncing, forget the key, keep pending work."""
    services.connection_disconnect(shop=request.shop)  # type: ignore[attr-defined]
    return _status(request)


@endpoint("GET")
def lists(request: HttpRequest) -> HttpResponse:
    """GET /app/api/klaviyo/lists — the account's lists to choose from, and the current one."""
    shop = request.shop  # type: ignore[attr-defined]
    found = selectors.klaviyo_lists(shop=shop)
    current = selectors.connection_for_shop(shop=shop)
    return JsonResponse({"lists": found, "selected": current.list_id if current else None})


@endpoint("POST")
def list_set(request: HttpRequest) -> HttpResponse:
    """POST /app/api/klaviyo/list `{"list_id": str}` or `{"create_name": str}` — change list."""
    data = _body(request)
    list_id = _optional_str(data, "list_id")
    create_name = _optional_str(data, "create_name")
    if create_name is not None:
        create_name = create_name.strip()
        if not create_name or len(create_name) > 100:
            raise BadInput("Enter a list name (up to 100 characters).", field="create_name")
    elif not list_id:
        raise BadInput("Choose a list (list_id) or name a new one (create_name).",
                       field="list_id")
    services.connection_list_set(
        shop=request.shop, list_id=list_id, create_name=create_name  # type: ignore[attr-defined]
    )
    return _status(request)


@endpoint("POST")
def retest(request: HttpRequest) -> HttpResponse:
    """POST /app/api/klaviyo/retest — verify the stored key and list again (halt or resume)."""
    services.connection_retest(shop=request.shop)  # type: ignore[attr-defined]
    return _status(request)
