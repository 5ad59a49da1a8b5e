"""The request id: one per request, on every log line it writes and in its response.

`RequestIdMiddleware` runs first (settings.MIDDLEWARE), so everything after it, including
Django's own `django.request` warnings and the 500 handler's log, carries the id. An incoming
`X-Request-ID` (a load balancer's or Shopify's proxy's) is kept when it looks like an id
(`logcontext.sane_request_id`), else a new one is made; either way the response returns it in
`X-Request-ID`, so a merchant or a support ticket can quote it and the logs find the request.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from notifyme.core import logcontext

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = logcontext.sane_request_id(request.headers.get(HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]
        with logcontext.scope(request_id=request_id):
            response = self.get_response(request)
        response[HEADER] = request_id
        return response
