"""The sandbox WSGI application: Klaviyo's `/api/*` routes plus the `/_sandbox/` admin API.

Contract — checks run in Klaviyo's order (DRF's authenticate -> permission -> throttle, then the
view): injected faults (they model the edge and the network, so they come first), authentication
(401), scopes (403, every missing scope listed), rate limits (429), headers (`revision` 400,
content type 415), body size (413), JSON (400), the spec schema (400), then the handler with the
account lock held. Every `/api/*` request is recorded in the account's request log with the key
masked. Plain WSGI, no Django: served by gunicorn (one process, threads) — see server.py.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from . import (
    handlers_consent,
    handlers_events,
    handlers_flows,
    handlers_lists,
    handlers_privacy,
    handlers_profiles,
    rules,
)
from .auth import Identity, authenticate, identify, require_scopes
from .errors import ApiError, server_error, throttled
from .faults import HTML_403, Fault
from .ids import mask_key
from .registry import Registry
from .spec import PROSE_LIMITS, REVISION, Operation, load_operations
from .validation import validator_for
from .web import JSONAPI, Request, Response

Handler = Callable[[Request], Response]
HANDLERS: dict[str, Handler] = {
    "create_or_update_profile": handlers_profiles.create_or_update_profile,
    "get_profiles": handlers_profiles.get_profiles,
    "create_profile": handlers_profiles.create_profile,
    "get_profile": handlers_profiles.get_profile,
    "update_profile": handlers_profiles.update_profile,
    "bulk_import_profiles": handlers_profiles.bulk_import_profiles,
    "get_bulk_import_profiles_job": handlers_profiles.get_bulk_import_job,
    "get_errors_for_bulk_import_profiles_job": handlers_profiles.get_import_errors,
    "add_profiles_to_list": handlers_lists.add_profiles_to_list,
    "remove_profiles_from_list": handlers_lists.remove_profiles_from_list,
    "get_profile_ids_for_list": handlers_lists.get_profile_ids_for_list,
    "get_lists": handlers_lists.get_lists,
    "create_list": handlers_lists.create_list,
    "get_list": handlers_lists.get_list,
    "update_list": handlers_lists.update_list,
    "delete_list": handlers_lists.delete_list,
    "bulk_subscribe_profiles": handlers_consent.bulk_subscribe_profiles,
    "bulk_unsubscribe_profiles": handlers_consent.bulk_unsubscribe_profiles,
    "create_event": handlers_events.create_event,
    "bulk_create_events": handlers_events.bulk_create_events,
    "get_accounts": handlers_events.get_accounts,
    "get_metrics": handlers_events.get_metrics,
    "get_flows_triggered_by_metric": handlers_flows.get_flows_triggered_by_metric,
    "get_flows": handlers_flows.get_flows,
    "create_flow": handlers_flows.create_flow,
    "request_profile_deletion": handlers_privacy.request_profile_deletion,
}
REVISION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$")
BODY_TYPES = ("application/vnd.api+json", "application/json")
UNATTRIBUTED_LOG = 5000


class Dropped(Exception):
    """The connection was closed on purpose (fault injection): send nothing."""


class SandboxApp:
    """WSGI callable. One instance holds all state (`registry`)."""

    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry or Registry()
        self.operations: list[Operation] = load_operations()
        for op in self.operations:  # compile every body validator now, not on first request
            if op.body_schema:
                validator_for(op.body_schema)
        from .admin_api import AdminApi

        self.admin = AdminApi(self)

    # ---- WSGI -----------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        req = self._request(environ)
        if req.path == "/_sandbox" or req.path.startswith("/_sandbox/"):
            response = self.admin.handle(req)
        else:
            answer = self._api(req, environ)
            if answer is None:  # dropped: the socket is shut, so this write fails quietly
                start_response("502 Bad Gateway", [("Content-Length", "0")])
                return []
            response = answer
        body = response.encode()
        headers = [("Content-Type", response.content_type), ("Content-Length", str(len(body))),
                   *response.headers.items()]
        start_response(response.status_line, headers)
        return [body] if req.method != "HEAD" else []

    @staticmethod
    def _request(environ: dict[str, Any]) -> Request:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        host = environ.get("HTTP_HOST") or (
            f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}")
        return Request(method=environ["REQUEST_METHOD"].upper(),
                       path=environ.get("PATH_INFO") or "/",
                       query=Request.parse_query(environ.get("QUERY_STRING", "")),
                       headers=headers, raw_body=raw,
                       base_url=f"{environ.get('wsgi.url_scheme', 'http')}://{host}")

    # ---- /api/* -----------------------------------------------------------------------------
    def _api(self, req: Request, environ: dict[str, Any]) -> Response | None:
        started = time.monotonic()
        ident = identify(req.headers, self.registry)
        note: dict[str, Any] = {}
        try:
            response = self._pipeline(req, environ, ident, note)
        except Dropped:
            response = None
        except ApiError as exc:
            response = Response(exc.status, exc.body(), dict(exc.headers))
        except Exception as exc:  # a sandbox bug must still look like a Klaviyo 500
            note["bug"] = f"{type(exc).__name__}: {exc}"[:300]
            response = Response(500, server_error(500).body())
        self._record(req, ident.key, ident.account, response, started, note)
        return response

    def _pipeline(self, req: Request, environ: dict[str, Any], ident: Identity,
                  note: dict[str, Any]) -> Response:
        op, req.params = self._route(req)
        note["operation"] = op.op_id
        fault = self.registry.fault(ident.account.id) if ident.account else None
        after_hang = 0.0
        if fault is not None and fault.applies(req.path):
            if fault.delay:
                self.registry.wake.wait(fault.delay)
            decided = fault.decide(req.path)
            if decided is not None:
                note["fault"] = decided.kind if decided.kind != "status" else decided.status
                if decided.kind == "hang" and fault.hang_after_processing:
                    after_hang = fault.hang_seconds
                else:
                    return self._fault(decided, fault, environ)
        record, account = authenticate(ident)
        require_scopes(record, op.scopes)
        bucket, limits = self._limits(op, req)
        decision = self.registry.limiter.check(account.id, bucket, limits)
        if not decision.allowed:
            note["window"] = decision.window
            raise throttled(decision.retry_after)
        try:
            response = self._checked(req, op, account)
        except ApiError as exc:  # errors after the throttle check still report the quota
            exc.headers.update(decision.headers)
            raise
        response.headers.update(decision.headers)
        if after_hang:
            self.registry.wake.wait(after_hang)
        return response

    def _route(self, req: Request) -> tuple[Operation, dict[str, str]]:
        allowed = False
        for op in self.operations:
            match = op.regex.match(req.path)
            if match:
                allowed = True
                if op.method == req.method:
                    return op, match.groupdict()
        if allowed:
            raise ApiError(405, "method_not_allowed", f'Method "{req.method}" not allowed.')
        raise ApiError(404, "not_found", "Not found.")

    @staticmethod
    def _limits(op: Operation, req: Request) -> tuple[str, dict[str, int]]:
        for (op_id, name, value), limits in PROSE_LIMITS.items():
            if op_id == op.op_id and value in (req.arg(name) or "").split(","):
                return f"{op.op_id}:{value}", limits
        return op.op_id, op.limits

    def _checked(self, req: Request, op: Operation, account: Any) -> Response:
        revision = req.headers.get("revision")
        if not revision:
            raise ApiError(400, "invalid", "Missing required header: revision.",
                           parameter="revision")
        if not REVISION_RE.match(revision) or revision.split(".")[0] > REVISION:
            raise ApiError(400, "invalid", f"Invalid revision: {revision[:40]!r}.",
                           parameter="revision")
        if op.body_schema is not None or req.raw_body:
            ctype = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
            if ctype not in BODY_TYPES:
                raise ApiError(415, "unsupported_media_type",
                               f'Unsupported media type "{ctype[:80]}" in request.')
        if len(req.raw_body) > rules.MAX_BODY:
            raise rules.body_too_large(len(req.raw_body))
        if op.body_schema is not None:
            try:
                req.body = req.json()
            except ValueError as exc:
                raise ApiError(400, "parse_error", f"JSON parse error - {exc}"[:300],
                               title="Malformed request.") from None
            validator_for(op.body_schema)(req.body)
        req.account = account
        with account.lock:
            return HANDLERS[op.op_id](req)

    def _fault(self, fault: Fault, config: Any, environ: dict[str, Any]) -> Response:
        if fault.kind == "html_403":
            return Response(403, HTML_403, {"cf-mitigated": "challenge", "Server": "cloudflare"},
                            content_type="text/html; charset=UTF-8")
        if fault.kind == "drop":
            sock = environ.get("gunicorn.socket")
            if isinstance(sock, socket.socket):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                raise Dropped()
            return Response(502, server_error(502).body())
        if fault.kind == "hang":
            self.registry.wake.wait(config.hang_seconds)
            return Response(504, server_error(504).body())
        if fault.status == 429:
            raise throttled(config.retry_after_seconds, retry_after=fault.retry_after)
        error = server_error(fault.status) if fault.status >= 500 else ApiError(
            fault.status, "error", "Injected error.")
        return Response(fault.status, error.body())

    # ---- request log ------------------------------------------------------------------------
    def _record(self, req: Request, key: str | None, account: Any, response: Response | None,
                started: float, note: dict[str, Any]) -> None:
        status = response.status if response is not None else 0
        entry = {"time": datetime.now(UTC).isoformat(), "method": req.method, "path": req.path,
                 "query": "&".join(f"{k}={v[0]}" for k, v in req.query.items()),
                 "status": status, "key": mask_key(key) if key else "",
                 "duration_ms": round((time.monotonic() - started) * 1000, 2),
                 "body_size": len(req.raw_body), **note}
        if response is not None and response.status >= 400 and isinstance(response.body, dict):
            errors = response.body.get("errors") or [{}]
            entry["error_code"] = errors[0].get("code")
        if response is None:
            entry["dropped"] = True
        if account is None:
            log = self.registry.unattributed
            log.append(entry)
            del log[:-UNATTRIBUTED_LOG]
            return
        with account.lock:
            account.requests.append(entry)
            account.request_count += 1
            if status == 429:
                account.throttled += 1


def make_app() -> SandboxApp:
    """Factory for gunicorn: `gunicorn 'sandboxes.klaviyo.app:make_app()'`."""
    return SandboxApp()


__all__ = ["JSONAPI", "SandboxApp", "make_app"]
