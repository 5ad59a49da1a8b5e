"""gunicorn's own log lines (access and error), redacted, and JSON when the app's are.

`gunicorn.conf.py` names `RedactingGunicornLogger`. Every access-log atom (request line, path,
query, referer, headers, environ) passes `redact_value`, whatever `access_log_format` picks.
With `LOG_FORMAT=json` (the production default: gunicorn reads the environment itself, its
master never loads Django's settings) both loggers write the app's JSON lines
(`logformat.JsonFormatter`), through the same context and redaction filters; an access line
carries the request id the app returned in `X-Request-ID`, so it joins the request's own lines.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger as GunicornLogger
from gunicorn.glogging import SafeAtoms

from notifyme.core import logcontext
from notifyme.core.logformat import JsonFormatter
from notifyme.core.logging import RedactSecretsFilter, redact_value


def gunicorn_log_format() -> str:
    """`LOG_FORMAT`, defaulting as settings.py does: text with DEBUG=1, else json."""
    debug = os.environ.get("DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}
    return os.environ.get("LOG_FORMAT", "").strip().lower() or ("text" if debug else "json")


class RedactedAtoms(SafeAtoms):
    """gunicorn's atoms, each value redacted when the log format reads it: a format uses a
    dozen of the fifty-odd atoms (every header and environ entry is one), so the others are
    never scanned (a few hundred microseconds per request under a webhook burst)."""

    def __getitem__(self, key: str) -> Any:
        return redact_value(super().__getitem__(key))


class RedactingGunicornLogger(GunicornLogger):
    atoms_wrapper_class = RedactedAtoms

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if gunicorn_log_format() != "json":
            return
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())
                handler.addFilter(logcontext.ContextFilter())
                handler.addFilter(RedactSecretsFilter())

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        # The id RequestIdMiddleware returned (so already a sane one); none for a request
        # that never reached Django.
        headers = {str(k).lower(): str(v) for k, v in (getattr(resp, "headers", None) or [])}
        with logcontext.scope(request_id=headers.get("x-request-id", "")[:128]):
            super().access(resp, req, environ, request_time)
