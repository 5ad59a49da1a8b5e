"""The sandbox's own admin HTTP API under `/_sandbox/` (never reachable through Klaviyo routes).

Contract (JSON in, JSON out; `SandboxAdmin` in admin.py is the client):
  GET  /_sandbox/                          HTML inspection page (`?account=ID` for one account)
  GET  /_sandbox/health                    {"ok": true}
  POST /_sandbox/reset                     wipe everything, limits back to enabled x1
  GET|POST /_sandbox/accounts              list / create {"name", "id"?}
  POST /_sandbox/keys                      {"account_id", "scopes", "key"?} -> {"key"} (full key
                                           returned once, to its creator); GET lists masked keys
  POST /_sandbox/keys/scopes               {"key", "scopes"};  POST /_sandbox/keys/revoke {"key"}
  GET|POST /_sandbox/rate-limits           {"enabled", "scale", "account_id"?}
  GET|POST|DELETE /_sandbox/accounts/{id}/faults
  GET|POST /_sandbox/accounts/{id}/lists   (POST {"name", "id"?})
  DELETE /_sandbox/accounts/{id}/lists/{list_id};  GET .../lists/{list_id}/members
  GET  /_sandbox/accounts/{id}/{requests|profiles|subscriptions|unsubscriptions|events|metrics|
       flows|jobs|deletions|stats}   (`events?metric=NAME`)
  POST /_sandbox/accounts/{id}/flows       {"name", "metric" (a metric name), "status"?,
                                           "id"?}: create a flow, or set an existing one's status
                                           (what the merchant does in Klaviyo's flow editor)
Keys travel in bodies, never in URLs, so no access log can hold one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .inspection import account_stats, render_html
from .registry import Registry
from .state import AccountState
from .web import Request, Response

if TYPE_CHECKING:
    from .app import SandboxApp

JSON = "application/json"
_ACCOUNT = re.compile(r"^/_sandbox/accounts/(?P<id>[^/]+)(?:/(?P<rest>.*))?$")


def ok(body: Any = None, status: int = 200) -> Response:
    return Response(status, {"ok": True} if body is None else body, content_type=JSON)


def fail(status: int, message: str) -> Response:
    return Response(status, {"error": message}, content_type=JSON)


class AdminApi:
    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self.registry = app.registry

    def handle(self, req: Request) -> Response:
        try:
            body = req.json() if req.raw_body else {}
        except ValueError:
            return fail(400, "body must be JSON")
        try:
            return self._dispatch(req, body or {})
        except ApiError as exc:
            return fail(exc.status, exc.detail)
        except (ValueError, TypeError, KeyError) as exc:
            return fail(400, f"bad request: {exc}")

    def _dispatch(self, req: Request, body: dict[str, Any]) -> Response:
        path = req.path.rstrip("/") or "/"
        route = _ROUTES.get((req.method, path)) or _ROUTES.get((ANY, path))
        if route is not None:
            return route(self.registry, req, body)
        match = _ACCOUNT.match(path)
        if match:
            return self._account(req, body, match.group("id"), match.group("rest") or "")
        return fail(404, f"no admin route {req.method} {path}")

    def _account(self, req: Request, body: dict[str, Any], account_id: str,
                 rest: str) -> Response:
        reg = self.registry
        account = reg.account(account_id)  # 404 for an unknown account, whatever the route
        route = _ACCOUNT_ROUTES.get((req.method, rest)) or _ACCOUNT_ROUTES.get((ANY, rest))
        if route is not None:
            return route(reg, account, req, body)
        parts = rest.split("/")
        with account.lock:
            if parts[0] == "lists":
                return self._lists(req, body, account, parts[1:])
            view = _ACCOUNT_VIEWS.get(rest)
            if view is not None:
                return ok(view(reg, account, req))
        return fail(404, f"no admin route {req.method} {req.path}")

    @staticmethod
    def _lists(req: Request, body: dict[str, Any], account: Any, parts: list[str]) -> Response:
        if not parts or parts == [""]:
            if req.method == "POST":
                record = account.create_list(body["name"],
                                             body.get("opt_in_process", "single_opt_in"),
                                             body.get("id"))
                return ok({"id": record.id, "name": record.name}, 201)
            return ok([{"id": r.id, "name": r.name, "opt_in_process": r.opt_in_process,
                        "created": r.created, "members": len(account.members.get(r.id, {}))}
                       for r in account.lists.values()])
        list_id = parts[0]
        if len(parts) == 1 and req.method == "DELETE":
            account.delete_list(list_id)
            return ok()
        if parts[1:] == ["members"]:
            account.get_list(list_id)
            return ok(list(account.members.get(list_id, {})))
        return fail(404, f"no admin route {req.method} {req.path}")


# ---- routes: (method, path) -> handler; ANY answers every method the table does not name ------
ANY = "*"
Route = Callable[[Registry, Request, dict[str, Any]], Response]
AccountRoute = Callable[[Registry, AccountState, Request, dict[str, Any]], Response]
AccountView = Callable[[Registry, AccountState, Request], Any]


def _page(reg: Registry, req: Request, body: dict[str, Any]) -> Response:
    return Response(200, render_html(reg, req.arg("account")),
                    content_type="text/html; charset=utf-8")


def _health(reg: Registry, req: Request, body: dict[str, Any]) -> Response:
    return ok({"ok": True, "accounts": len(reg.accounts)})


def _reset(reg: Registry, req: Request, body: dict[str, Any]) -> Response:
    reg.reset()
    return ok()


def _create_account(reg: Registry, req: Request, body: dict[str, Any]) -> Response:
    account = reg.create_account(body.get("name") or "Sandbox Store", body.get("id"))
    return ok(_account_view(account), 201)


def _accounts(reg: Registry, req: Request, body: dict[str, Any]) -> Response:
    return ok([_account_view(a) for a in list(reg.accounts.values())])


def _create_key(reg: Registry, req: Request, body: dict[str, Any]) -> Response:
    key = reg.create_key(body["account_id"], body.get("scopes", "all"), body.get("key"))
    return ok({"key": key}, 201)


def _keys(reg: Registry, req: Request, body: dict[str, Any]) -> Response:
    return ok(reg.keys(req.arg("account_id")))


def _set_scopes(reg: Registry, req: Request, body: dict[str, Any]) -> Response:
    reg.set_scopes(body["key"], body["scopes"])
    return ok()


def _revoke(reg: Registry, req: Request, body: dict[str, Any]) -> Response:
    reg.revoke(body["key"])
    return ok()


def _configure_rate_limits(reg: Registry, req: Request, body: dict[str, Any]) -> Response:
    reg.limiter.configure(enabled=bool(body.get("enabled", True)),
                          scale=float(body.get("scale", 1.0)),
                          account_id=body.get("account_id"), windows=body.get("windows"))
    return _rate_limits(reg, req, body)


def _rate_limits(reg: Registry, req: Request, body: dict[str, Any]) -> Response:
    limiter = reg.limiter
    return ok({"enabled": limiter.default.enabled, "scale": limiter.default.scale,
               "windows": limiter.default.windows,
               "accounts": {k: vars(v) for k, v in limiter.per_account.items()}})


def _unattributed(reg: Registry, req: Request, body: dict[str, Any]) -> Response:
    return ok(list(reg.unattributed))


_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/_sandbox"): _page,
    (ANY, "/_sandbox/health"): _health,
    ("POST", "/_sandbox/reset"): _reset,
    ("POST", "/_sandbox/accounts"): _create_account,
    (ANY, "/_sandbox/accounts"): _accounts,
    ("POST", "/_sandbox/keys"): _create_key,
    (ANY, "/_sandbox/keys"): _keys,
    ("POST", "/_sandbox/keys/scopes"): _set_scopes,
    ("POST", "/_sandbox/keys/revoke"): _revoke,
    ("POST", "/_sandbox/rate-limits"): _configure_rate_limits,
    (ANY, "/_sandbox/rate-limits"): _rate_limits,
    (ANY, "/_sandbox/requests/unattributed"): _unattributed,
}


def _account_details(reg: Registry, account: AccountState, req: Request,
                     body: dict[str, Any]) -> Response:
    return ok(_account_view(account))


def _set_faults(reg: Registry, account: AccountState, req: Request,
                body: dict[str, Any]) -> Response:
    return ok(reg.set_faults(account.id, body).public())


def _clear_faults(reg: Registry, account: AccountState, req: Request,
                  body: dict[str, Any]) -> Response:
    reg.clear_faults(account.id)
    return ok()


def _faults(reg: Registry, account: AccountState, req: Request,
            body: dict[str, Any]) -> Response:
    config = reg.fault(account.id)
    return ok(config.public() if config else {})


def _set_flow(reg: Registry, account: AccountState, req: Request,
              body: dict[str, Any]) -> Response:
    status = body.get("status", "draft")
    if status not in {"draft", "manual", "live"}:
        return fail(400, "status must be draft, manual or live")
    with account.lock:
        if body.get("id"):
            flow = account.flows.get(str(body["id"]))
            if flow is None:
                return fail(404, "no such flow")
        else:
            metric = account.metric(str(body.get("metric") or "Back in Stock"))
            flow = account.add_flow(name=str(body.get("name") or "Flow"), metric_id=metric.id,
                                    definition={})
        flow.status = status
        flow.archived = bool(body.get("archived", flow.archived))
    return ok({"id": flow.id, "status": flow.status, "metric_id": flow.metric_id}, 201)


#: /_sandbox/accounts/{id}/<rest>: routes answered without the account's lock.
_ACCOUNT_ROUTES: dict[tuple[str, str], AccountRoute] = {
    (ANY, ""): _account_details,
    ("POST", "faults"): _set_faults,
    ("POST", "flows"): _set_flow,
    ("DELETE", "faults"): _clear_faults,
    (ANY, "faults"): _faults,
}


def _events(reg: Registry, account: AccountState, req: Request) -> Any:
    metric = req.arg("metric")
    return [e for e in account.events if metric is None or e["metric"] == metric]


#: /_sandbox/accounts/{id}/<rest>, any method: what the account holds, read under its lock.
_ACCOUNT_VIEWS: dict[str, AccountView] = {
    "requests": lambda reg, account, req: list(account.requests),
    "profiles": lambda reg, account, req: [p.admin_view() for p in account.profiles.values()],
    "subscriptions": lambda reg, account, req: list(account.consents.values()),
    "unsubscriptions": lambda reg, account, req: list(account.unsubscriptions),
    "deletions": lambda reg, account, req: list(account.deletions),
    "events": _events,
    "metrics": lambda reg, account, req: [{"id": m.id, "name": m.name, "created": m.created}
                                          for m in account.metrics.values()],
    "flows": lambda reg, account, req: [
        {"id": f.id, "name": f.name, "metric_id": f.metric_id, "status": f.status,
         "archived": f.archived, "definition": f.definition} for f in account.flows.values()],
    "jobs": lambda reg, account, req: [{k: v for k, v in j.items() if not k.startswith("_")}
                                       for j in account.jobs.values()],
    "stats": lambda reg, account, req: account_stats(reg, account),
}


def _account_view(account: Any) -> dict[str, Any]:
    return {"id": account.id, "name": account.name, "public_api_key": account.id,
            "created": account.created}


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)
