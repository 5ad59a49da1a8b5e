"""The OpenAPI 3.1 description of the app's public HTTP interface, served at `GET /openapi.json`.

It covers every route outside the Django admin, django-rq's pages and the dev tools: the
storefront (behind Shopify's app proxy), Shopify's webhooks and install, the embedded merchant
app and its JSON API, the support pages and the metrics. tests/core/test_openapi.py keeps it
true: every such URL pattern is described, every described path resolves to a view, and each
path's methods are exactly those its view answers (any other gets 405).

Bodies are described where a caller sends one (the JSON writes, the storefront forms, the CSV
import); the field rules in prose live in docs/storefront-api.md and the module of each view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

JSON = "application/json"
HTML = "text/html"
CSV = "text/csv"

ERROR = {"$ref": "#/components/schemas/Error"}
ANY_OBJECT: dict[str, Any] = {"type": "object"}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "appProxy": {
        "type": "apiKey", "in": "query", "name": "signature",
        "description": "Shopify's app-proxy signature: hex HMAC-SHA256 of the sorted query "
                       "with the app secret, and a `timestamp` within 90 s "
                       "(docs/storefront-api.md).",
    },
    "idToken": {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "An App Bridge ID token of the shop (HS256 with the app secret).",
    },
    "idTokenQuery": {
        "type": "apiKey", "in": "query", "name": "id_token",
        "description": "The ID token Shopify's admin adds when it opens the embedded app.",
    },
    "webhookHmac": {
        "type": "apiKey", "in": "header", "name": "X-Shopify-Hmac-Sha256",
        "description": "Base64 HMAC-SHA256 of the raw body with the app secret.",
    },
    "installHmac": {
        "type": "apiKey", "in": "query", "name": "hmac",
        "description": "Shopify's hex HMAC of the install/callback query.",
    },
    "staffSession": {
        "type": "apiKey", "in": "cookie", "name": "sessionid",
        "description": "A signed-in staff user of /admin/ (forms also need the CSRF token).",
    },
    "metricsToken": {"type": "http", "scheme": "bearer",
                     "description": "METRICS_TOKEN, for a Prometheus scraper."},
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string", "description": "One sentence for a person."},
                "fields": {"type": "object", "description": "Field name → its messages.",
                           "additionalProperties": {"type": "array",
                                                    "items": {"type": "string"}}},
            },
        }},
    },
    "Subscribe": {
        "type": "object", "required": ["variant_id"],
        "description": "An email or a phone (or both) is required; docs/storefront-api.md.",
        "properties": {
            "variant_id": {"oneOf": [{"type": "integer", "minimum": 1,
                                      "maximum": 2**63 - 1},
                                     {"type": "string", "pattern": "^[0-9]{1,19}$"}]},
            "email": {"type": "string", "maxLength": 254},
            "phone": {"type": "string", "maxLength": 32},
            "country": {"type": "string", "minLength": 2, "maxLength": 2},
            "marketing_consent": {"type": "boolean"},
            "consent_text_version": {"type": "string", "maxLength": 64},
            "sms_consent": {"type": "boolean"},
            "sms_consent_text_version": {"type": "string", "maxLength": 64},
            "locale": {"type": "string", "maxLength": 16},
            "first_name": {"type": "string", "maxLength": 100},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 99},
            "website": {"type": "string", "maxLength": 0, "description": "Honeypot."},
        },
        "additionalProperties": False,
    },
    "Unsubscribe": {
        "type": "object", "required": ["token"],
        "properties": {"token": {"type": "string"},
                       "marketing": {"type": "string", "enum": ["", "0", "1"]}},
    },
    "KlaviyoConnect": {
        "type": "object", "required": ["private_key"], "additionalProperties": False,
        "properties": {"private_key": {"type": "string", "writeOnly": True,
                                       "description": "A Klaviyo private API key (pk_…)."}},
    },
    "KlaviyoList": {
        "type": "object", "additionalProperties": False,
        "description": "`list_id` to choose a list, or `create_name` to make one.",
        "properties": {"list_id": {"type": "string"}, "create_name": {"type": "string"}},
    },
    "AlertLocations": {
        "type": "object", "required": ["location_ids"], "additionalProperties": False,
        "properties": {"location_ids": {
            "description": "Locations whose stock counts; null = every location.",
            "oneOf": [{"type": "null"},
                      {"type": "array", "items": {"type": "integer", "minimum": 1}}]}},
    },
    "RestockSettings": {
        "type": "object", "additionalProperties": False, "minProperties": 1,
        "properties": {
            "threshold": {"type": "integer", "minimum": 1, "maximum": 100_000},
            "cooldown_hours": {"type": "integer", "minimum": 0, "maximum": 8_760},
            "send_mode": {"type": "string"},
            "subscribers_per_unit": {"type": "integer", "minimum": 1, "maximum": 1_000},
            "batch_interval_minutes": {"type": "integer", "minimum": 1, "maximum": 1_440},
        },
    },
    "AttributionWindow": {
        "type": "object", "required": ["window_days"],
        "properties": {"window_days": {"type": "integer", "minimum": 1}},
    },
    "PrivacyProvided": {
        "type": "object", "required": ["request"], "additionalProperties": False,
        "properties": {"request": {"type": "integer", "minimum": 1}},
    },
    "CsvUpload": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "contentEncoding": "binary"}},
    },
}


@dataclass(frozen=True)
class Op:
    """One method of one path."""

    summary: str
    security: str | None = None
    body: str | None = None  # a SCHEMAS name
    body_type: str = JSON
    answers: str = JSON  # the success response's media type
    success: int = 200
    query: tuple[str, ...] = ()
    errors: tuple[int, ...] = ()

    def describe(self, tag: str, path_params: list[str]) -> dict[str, Any]:
        operation: dict[str, Any] = {"tags": [tag], "summary": self.summary}
        parameters = [{"name": name, "in": "path", "required": True,
                       "schema": {"type": "integer" if name.endswith("_id") else "string"}}
                      for name in path_params]
        parameters += [{"name": name, "in": "query", "required": False,
                        "schema": {"type": "string"}} for name in self.query]
        if parameters:
            operation["parameters"] = parameters
        if self.security:
            operation["security"] = [{self.security: []}]
        if self.body:
            operation["requestBody"] = {"required": True, "content": {
                self.body_type: {"schema": {"$ref": f"#/components/schemas/{self.body}"}}}}
        responses: dict[str, Any] = {str(self.success): {
            "description": "OK", "content": {self.answers: {"schema": ANY_OBJECT}}}}
        for status in (*self.errors, *_AUTH_ERRORS.get(self.security, ())):
            responses[str(status)] = {"description": _REASONS[status],
                                      "content": {JSON: {"schema": ERROR}}}
        responses["405"] = {"description": _REASONS[405]}
        operation["responses"] = responses
        return operation


_REASONS = {400: "Invalid input; the error names the field.", 401: "Not authenticated.",
            403: "Not allowed.", 404: "Not found (or another shop's).",
            409: "Conflicts with the current state.", 413: "Body too large.",
            429: "Rate limited; see Retry-After.", 405: "Method not allowed."}
_AUTH_ERRORS: dict[str | None, tuple[int, ...]] = {
    "appProxy": (401,), "idToken": (401,), "webhookHmac": (401,), "installHmac": (400,),
}


@dataclass(frozen=True)
class Route:
    path: str  # OpenAPI form: /app/api/subscribers/{subscription_id}
    tag: str
    methods: dict[str, Op] = field(default_factory=dict)


def _merchant(path: str, **methods: Op) -> Route:
    return Route(path, "merchant API", methods)


def _page(path: str, summary: str) -> Route:
    return Route(path, "embedded app",
                 {"get": Op(summary, "idTokenQuery", answers=HTML)})


def _support(path: str, summary: str, method: str = "get") -> Route:
    # A staff form posts and is redirected back (JSON instead with `Accept: application/json`).
    success = 200 if method == "get" else 302
    return Route(path, "support", {method: Op(summary, "staffSession", answers=HTML,
                                              success=success)})


ROUTES: tuple[Route, ...] = (
    Route("/healthz", "operations", {"get": Op("Database and Redis reachability.")}),
    Route("/openapi.json", "operations", {"get": Op("This description.")}),
    Route("/proxy/subscribe", "storefront", {"post": Op(
        "Ask to be told when a sold-out variant is back.", "appProxy", body="Subscribe",
        success=201, errors=(400, 404, 409, 413, 429))}),
    Route("/proxy/unsubscribe", "storefront", {
        "get": Op("The confirmation page of a cancel link.", "appProxy", answers=HTML,
                  query=("token",)),
        "post": Op("Cancel the alert (and, with marketing=1, marketing email).", "appProxy",
                   body="Unsubscribe", body_type="application/x-www-form-urlencoded",
                   answers=HTML, errors=(400,))}),
    Route("/webhooks/shopify", "Shopify", {"post": Op(
        "A Shopify webhook delivery (stored, then processed by the workers).", "webhookHmac",
        body_type=JSON, errors=(413,))}),
    Route("/auth/install", "Shopify", {"get": Op(
        "Install link outside the admin: redirects to Shopify's authorize page.",
        "installHmac", answers=HTML, query=("shop", "timestamp"))}),
    Route("/auth/callback", "Shopify", {"get": Op(
        "Shopify's authorization-code redirect.", "installHmac", answers=HTML,
        query=("code", "shop", "state", "timestamp"))}),
    _page("/app/", "The embedded app's home (settings)."),
    Route("/app/bounce", "embedded app", {"get": Op(
        "Fetches a fresh ID token through App Bridge and reloads.", answers=HTML)}),
    _page("/app/subscribers", "The subscribers page."),
    _page("/app/demand", "The demand page."),
    _page("/app/restocks", "The restocks page."),
    _page("/app/revenue", "The recovered-revenue page."),
    _merchant("/app/api/klaviyo", get=Op("The Klaviyo connection's status.", "idToken")),
    _merchant("/app/api/klaviyo/connect", post=Op(
        "Connect with a private key (scopes verified; refused without profiles:write).",
        "idToken", body="KlaviyoConnect", errors=(400, 409))),
    _merchant("/app/api/klaviyo/disconnect", post=Op("Disconnect Klaviyo.", "idToken")),
    _merchant("/app/api/klaviyo/lists", get=Op("The account's lists.", "idToken",
                                               errors=(409,))),
    _merchant("/app/api/klaviyo/list", post=Op("Choose or create the list.", "idToken",
                                               body="KlaviyoList", errors=(400, 409))),
    _merchant("/app/api/klaviyo/retest", post=Op("Verify the stored key again.", "idToken")),
    _merchant("/app/api/klaviyo/panel", get=Op("The connection panel (HTML fragment).",
                                               "idToken", answers=HTML)),
    _merchant("/app/api/klaviyo/flow", get=Op("The flow panel (HTML fragment).", "idToken",
                                              answers=HTML)),
    _merchant("/app/api/klaviyo/flow/check", post=Op(
        "Check now whether a live flow is triggered by Back in Stock.", "idToken",
        answers=HTML)),
    _merchant("/app/api/klaviyo/flow/create", post=Op(
        "Create the Back in Stock flow (a draft) in Klaviyo.", "idToken", answers=HTML)),
    _merchant("/app/api/restocks", get=Op("Recent restocks and their progress.", "idToken",
                                          query=("limit",), errors=(400,))),
    _merchant("/app/api/restocks/settings",
              get=Op("Restock settings.", "idToken"),
              post=Op("Change restock settings.", "idToken", body="RestockSettings",
                      errors=(400,))),
    _merchant("/app/api/locations",
              get=Op("The shop's locations and which count for alerts.", "idToken"),
              post=Op("Choose the locations whose stock counts.", "idToken",
                      body="AlertLocations", errors=(400,))),
    _merchant("/app/api/catalog/sync",
              get=Op("The catalog sync's progress.", "idToken"),
              post=Op("Re-sync the catalog from Shopify.", "idToken", success=202,
                      errors=(409,))),
    _merchant("/app/api/privacy", get=Op("Privacy requests of the shop.", "idToken")),
    _merchant("/app/api/privacy/report", get=Op("One data request's report.", "idToken",
                                                query=("request",), errors=(400, 404))),
    _merchant("/app/api/privacy/export", get=Op(
        "Download a data request's report.", "idToken", query=("request", "format"),
        errors=(400, 404))),
    _merchant("/app/api/privacy/provided", post=Op(
        "Mark a data request as provided to the customer.", "idToken",
        body="PrivacyProvided", errors=(400, 404))),
    _merchant("/app/api/subscribers", get=Op(
        "Subscribers, filtered and paged.", "idToken",
        query=("q", "status", "sync_state", "variant_id", "cursor", "limit"), errors=(400,))),
    _merchant("/app/api/subscribers/export.csv", get=Op(
        "The filtered subscribers as CSV.", "idToken", answers=CSV,
        query=("q", "status", "sync_state", "variant_id"), errors=(400,))),
    _merchant("/app/api/subscribers/imports",
              get=Op("Recent imports.", "idToken"),
              post=Op("Import a waitlist CSV.", "idToken", body="CsvUpload",
                      body_type="multipart/form-data", errors=(400, 413))),
    _merchant("/app/api/subscribers/imports/{import_id}",
              get=Op("One import's progress.", "idToken", errors=(404,))),
    _merchant("/app/api/subscribers/imports/{import_id}/errors.csv",
              get=Op("One import's rejected rows.", "idToken", answers=CSV, errors=(404,))),
    _merchant("/app/api/subscribers/{subscription_id}",
              delete=Op("Remove a subscriber (and from the Klaviyo list).", "idToken",
                        errors=(404,))),
    _merchant("/app/api/demand", get=Op(
        "Waiting demand per variant.", "idToken",
        query=("sort", "variant", "days", "limit"), errors=(400,))),
    _merchant("/app/api/revenue",
              get=Op("Recovered revenue.", "idToken"),
              post=Op("Change the attribution window.", "idToken", body="AttributionWindow",
                      errors=(400,))),
    _merchant("/app/api/revenue/panel", get=Op("The revenue panel (HTML fragment).",
                                               "idToken", answers=HTML)),
    _support("/support/", "The health board of every shop."),
    _support("/support/shops/{domain}/", "One shop: what was sent, answered, and what to do."),
    _support("/support/errors/", "Every error kind with its fix."),
    _support("/support/errors/{source}/{kind}/", "One error kind and where it happened."),
    _support("/support/shoppers/", "Find a shopper."),
    _support("/support/shoppers/{subscription_id}/", "One shopper's timeline."),
    _support("/support/shops/{domain}/reverify", "Verify the shop's Klaviyo key again.",
             "post"),
    _support("/support/shops/{domain}/retry/preview", "What a retry would send."),
    _support("/support/shops/{domain}/retry", "Retry the shop's failed work.", "post"),
    _support("/support/shops/{domain}/pause", "Pause the shop's sending.", "post"),
    _support("/support/shops/{domain}/resume", "Resume the shop's sending.", "post"),
    _support("/support/shops/{domain}/reconcile", "Reconcile stock with Shopify now.", "post"),
    Route("/support/metrics", "operations", {"get": Op(
        "Prometheus metrics.", "metricsToken", answers="text/plain", errors=(401,))}),
)


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "notifyme", "version": "1",
                 "description": "Back-in-stock alerts for Shopify stores, synced to Klaviyo."},
        "paths": {route.path: {method: op.describe(route.tag, _path_params(route.path))
                               for method, op in route.methods.items()}
                  for route in ROUTES},
        "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
    }


@require_GET
def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document(), json_dumps_params={"indent": 1})
