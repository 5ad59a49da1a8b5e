"""One decorator for every merchant JSON endpoint under /app/api/ (the API's single style).

Bearer ID-token auth (`embedded_api`, 401 with the retry header), then a JSON 405 with `Allow`
for any other method, then the view; `InputError` (bad input, named field) and
`ConnectionRefused` (Klaviyo said no) become the app's error envelope (notifyme/core/http.py).
CSRF-exempt: no cookie authenticates these, the bearer token does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from integrations.klaviyo.scopes import ConnectionRefused
from notifyme.core.http import InputError, json_error
from notifyme.shops.auth import EmbeddedRequest, embedded_api

P = ParamSpec("P")

EmbeddedView = Callable[Concatenate[EmbeddedRequest, P], HttpResponse]
PlainView = Callable[Concatenate[HttpRequest, P], HttpResponse]


def refused_response(refused: ConnectionRefused) -> JsonResponse:
    """422 with the machine code, the sentence, missing scopes and the field to blame."""
    return json_error(
        422, refused.code, refused.sentence,
        {refused.field: [refused.sentence]} if refused.field else None,
        reason=refused.kind, missing_scopes=refused.missing_scopes,
        klaviyo_error_id=refused.error_id,
    )


def method_not_allowed(methods: tuple[str, ...]) -> JsonResponse:
    response = json_error(405, "method_not_allowed", f"Use {' or '.join(methods)}.")
    response["Allow"] = ", ".join(methods)
    return response


def merchant_endpoint(*methods: str) -> Callable[[EmbeddedView[P]], PlainView[P]]:
    """Decorate a view taking the authenticated `EmbeddedRequest` (and the URL's arguments),
    allowed for `methods`."""

    def decorate(view: EmbeddedView[P]) -> PlainView[P]:
        @functools.wraps(view)
        def wrapper(request: EmbeddedRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            if request.method not in methods:
                return method_not_allowed(methods)
            try:
                return view(request, *args, **kwargs)
            except InputError as error:
                return error.response()
            except ConnectionRefused as refused:
                return refused_response(refused)

        return csrf_exempt(embedded_api(wrapper))

    return decorate
