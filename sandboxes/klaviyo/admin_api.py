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
       jobs|stats}   (`events?metric=NAME`)
Keys travel in bodies, never in URLs, so no access log can hold one.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .inspection import account_stats, render_html
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
        method = req.method
        reg = self.registry
        if path == "/_sandbox" and method == "GET":
            return Response(200, render_html(reg, req.arg("account")),
                            content_type="text/html; charset=utf-8")
        if path == "/_sandbox/health":
            return ok({"ok": True, "accounts": len(reg.accounts)})
        if path == "/_sandbox/reset" and method == "POST":
            reg.reset()
            return ok()
        if path == "/_sandbox/accounts":
            if method == "POST":
                account = reg.create_account(body.get("name") or "Sandbox Store", body.get("id"))
                return ok(_account_view(account), 201)
            return ok([_account_view(a) for a in list(reg.accounts.values())])
        if path == "/_sandbox/keys":
            if method == "POST":
                key = reg.create_key(body["account_id"], body.get("scopes", "all"), body.get("key"))
                return ok({"key": key}, 201)
            return ok(reg.keys(req.arg("account_id")))
        if path == "/_sandbox/keys/scopes" and method == "POST":
            reg.set_scopes(body["key"], body["scopes"])
            return ok()
        if path == "/_sandbox/keys/revoke" and method == "POST":
            reg.revoke(body["key"])
            return ok()
        if path == "/_sandbox/rate-limits":
            if method == "POST":
                reg.limiter.configure(enabled=bool(body.get("enabled", True)),
                                      scale=float(body.get("scale", 1.0)),
                                      account_id=body.get("account_id"),
                                      windows=body.get("windows"))
            limiter = reg.limiter
            return ok({"enabled": limiter.default.enabled, "scale": limiter.default.scale,
                       "windows": limiter.default.windows,
                       "accounts": {k: vars(v) for k, v in limiter.per_account.items()}})
        if path == "/_sandbox/requests/unattributed":
            return ok(list(reg.unattributed))
        match = _ACCOUNT.match(path)
        if match:
            return self._account(req, body, match.group("id"), match.group("rest") or "")
        return fail(404, f"no admin route {method} {path}")

    def _account(self, req: Request, body: dict[str, Any], account_id: str,
                 rest: str) -> Response:
        reg = self.registry
        account = reg.account(account_id)
        method = req.method
        if rest == "":
            return ok(_account_view(account))
        if rest == "faults":
            if method == "POST":
                return ok(reg.set_faults(account_id, body).public())
            if method == "DELETE":
                reg.clear_faults(account_id)
                return ok()
            config = reg.fault(account_id)
            return ok(config.public() if config else {})
        parts = rest.split("/")
        with account.lock:
            if parts[0] == "lists":
                return self._lists(req, body, account, parts[1:])
            if rest == "requests":
                return ok(list(account.requests))
            if rest == "profiles":
                return ok([p.admin_view() for p in account.profiles.values()])
            if rest == "subscriptions":
                return ok(list(account.consents.values()))
            if rest == "unsubscriptions":
                return ok(list(account.unsubscriptions))
            if rest == "events":
                metric = req.arg("metric")
                return ok([e for e in account.events if metric is None or e["metric"] == metric])
            if rest == "metrics":
                return ok([{"id": m.id, "name": m.name, "created": m.created}
                           for m in account.metrics.values()])
            if rest == "jobs":
                return ok([{k: v for k, v in j.items() if not k.startswith("_")}
                           for j in account.jobs.values()])
            if rest == "stats":
                return ok(account_stats(reg, account))
        return fail(404, f"no admin route {method} {req.path}")

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


def _account_view(account: Any) -> dict[str, Any]:
    return {"id": account.id, "name": account.name, "public_api_key": account.id,
            "created": account.created}


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)
