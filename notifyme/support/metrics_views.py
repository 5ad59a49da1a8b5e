"""`GET /support/metrics`: the Prometheus text exposition of `metrics.StateCollector`.

Who may read it: signed-in staff (`staff_required`, for a look in the browser), or a scraper
sending `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time). A bearer that is
not the metrics token — a merchant's App Bridge ID token, a stale scraper secret — gets a JSON
401, never the metrics and never a login redirect a scraper could not follow. Without
`METRICS_TOKEN` set, only staff sessions work.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from notifyme.core.http import json_error
from notifyme.support.access import staff_required
from notifyme.support.metrics import StateCollector


def _exposition(request: HttpRequest) -> HttpResponse:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StateCollector())
    response = HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


_staff_exposition = staff_required(_exposition)


def _bearer_ok(presented: str) -> bool:
    expected = settings.METRICS_TOKEN
    return bool(expected) and hmac.compare_digest(presented.encode(), expected.encode())


def metrics(request: HttpRequest) -> HttpResponse:
    if request.method not in {"GET", "HEAD"}:
        response = json_error(405, "method_not_allowed", "Use GET.")
        response["Allow"] = "GET, HEAD"
        return response
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        if _bearer_ok(presented.strip()):
            return _exposition(request)
        response = json_error(401, "invalid_token", "This bearer token does not open the "
                                                    "metrics; use METRICS_TOKEN.")
        response["WWW-Authenticate"] = 'Bearer realm="notifyme-metrics"'
        return response
    return _staff_exposition(request)
