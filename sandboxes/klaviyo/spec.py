"""Klaviyo operations the sandbox serves, with scopes and rate limits read from the official spec.

Contract: `load_operations()` returns one `Operation` per supported (method, path). Scopes come
from the operation's `x-klaviyo-scopes` and limits from `x-klaviyo-ratelimit` in Klaviyo's own
OpenAPI file (revision 2026-07-15), located at `<repo>/../shared/klaviyo/stable.json` or at
`$KLAVIYO_SPEC_PATH`. When the file is absent, a built-in copy of the same numbers is used, so
the sandbox still behaves the same (the table below was copied from that revision).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

REVISION = "2026-07-15"
SPEC_ENV = "KLAVIYO_SPEC_PATH"

# window name -> seconds
WINDOW_SECONDS = {"burst": 1, "steady": 60, "daily": 86400}
_UNIT_SECONDS = {"s": 1, "m": 60, "d": 86400}


@dataclass(frozen=True)
class Operation:
    """One Klaviyo REST operation: identity, required scopes, limits and request schema name."""

    op_id: str
    method: str
    path: str  # spec path template, e.g. /api/lists/{id}
    scopes: tuple[str, ...]
    limits: dict[str, int] = field(hash=False, compare=False)  # window name -> requests
    body_schema: str | None = None  # components.schemas name of the request body

    @property
    def regex(self) -> re.Pattern[str]:
        return _path_regex(self.path)


# (op_id, method, path, body schema). The spec decides scopes and limits for these.
SUPPORTED: tuple[tuple[str, str, str, str | None], ...] = (
    ("create_or_update_profile", "POST", "/api/profile-import", "ProfileUpsertQuery"),
    ("get_profiles", "GET", "/api/profiles", None),
    ("create_profile", "POST", "/api/profiles", "ProfileCreateQuery"),
    ("get_profile", "GET", "/api/profiles/{id}", None),
    ("update_profile", "PATCH", "/api/profiles/{id}", "ProfilePartialUpdateQuery"),
    ("bulk_import_profiles", "POST", "/api/profile-bulk-import-jobs",
     "ProfileImportJobCreateQuery"),
    ("get_bulk_import_profiles_job", "GET", "/api/profile-bulk-import-jobs/{job_id}", None),
    ("get_errors_for_bulk_import_profiles_job", "GET",
     "/api/profile-bulk-import-jobs/{id}/import-errors", None),
    ("add_profiles_to_list", "POST", "/api/lists/{id}/relationships/profiles",
     "ListMembersAddQuery"),
    ("remove_profiles_from_list", "DELETE", "/api/lists/{id}/relationships/profiles",
     "ListMembersDeleteQuery"),
    ("get_profile_ids_for_list", "GET", "/api/lists/{id}/relationships/profiles", None),
    ("get_lists", "GET", "/api/lists", None),
    ("create_list", "POST", "/api/lists", "ListCreateQuery"),
    ("get_list", "GET", "/api/lists/{id}", None),
    ("update_list", "PATCH", "/api/lists/{id}", "ListPartialUpdateQuery"),
    ("delete_list", "DELETE", "/api/lists/{id}", None),
    ("bulk_subscribe_profiles", "POST", "/api/profile-subscription-bulk-create-jobs",
     "SubscriptionCreateJobCreateQuery"),
    ("bulk_unsubscribe_profiles", "POST", "/api/profile-subscription-bulk-delete-jobs",
     "SubscriptionDeleteJobCreateQuery"),
    ("create_event", "POST", "/api/events", "EventCreateQueryV2"),
    ("bulk_create_events", "POST", "/api/event-bulk-create-jobs", "EventsBulkCreateJob"),
    ("get_accounts", "GET", "/api/accounts", None),
    ("get_metrics", "GET", "/api/metrics", None),
    ("get_flows_triggered_by_metric", "GET", "/api/metrics/{id}/flow-triggers", None),
    ("get_flows", "GET", "/api/flows", None),
    ("create_flow", "POST", "/api/flows", "FlowCreateQuery"),
    ("request_profile_deletion", "POST", "/api/data-privacy-deletion-jobs",
     "DataPrivacyCreateDeletionJobQuery"),
)

_L = {"burst": 75, "steady": 750}
_M = {"burst": 10, "steady": 150}
_XL = {"burst": 350, "steady": 3500}
_XS = {"burst": 1, "steady": 15}
_PW, _PR, _LW, _LR = "profiles:write", "profiles:read", "lists:write", "lists:read"

# Fallback when the spec file is missing: the same values as revision 2026-07-15.
FALLBACK: dict[str, tuple[tuple[str, ...], dict[str, int]]] = {
    "create_or_update_profile": ((_PW,), _L),
    "get_profiles": ((_PR,), _L),
    "create_profile": ((_PW,), _L),
    "get_profile": ((_PR,), _L),
    "update_profile": ((_PW,), _L),
    "bulk_import_profiles": ((_LW, _PW), _M),
    "get_bulk_import_profiles_job": ((_LR, _PR), _M),
    "get_errors_for_bulk_import_profiles_job": ((_PR,), _M),
    "add_profiles_to_list": ((_LW, _PW), _M),
    "remove_profiles_from_list": ((_LW, _PW), _M),
    "get_profile_ids_for_list": ((_LR, _PR), _L),
    "get_lists": ((_LR,), _L),
    "create_list": ((_LW,), {**_M, "daily": 150}),
    "get_list": ((_LR,), _L),
    "update_list": ((_LW,), _M),
    "delete_list": ((_LW,), _M),
    "bulk_subscribe_profiles": ((_LW, _PW, "subscriptions:write"), _L),
    "bulk_unsubscribe_profiles": ((_LW, _PW, "subscriptions:write"), _L),
    "create_event": (("events:write",), _XL),
    "bulk_create_events": (("events:write",), _M),
    "get_accounts": (("accounts:read",), _XS),
    "get_metrics": (("metrics:read",), _M),
    "get_flows_triggered_by_metric": (("flows:read", "metrics:read"), _M),
    "get_flows": (("flows:read",), {"burst": 3, "steady": 60}),
    "create_flow": (("flows:write",), {"burst": 1, "steady": 15, "daily": 100}),
    "request_profile_deletion": (("data-privacy:write",), {"burst": 3, "steady": 60}),
}

# Limits the spec states only in prose: (op_id, query key, value) -> limits.
PROSE_LIMITS: dict[tuple[str, str, str], dict[str, int]] = {
    ("get_list", "additional-fields[list]", "profile_count"): dict(_XS),
    ("get_profiles", "additional-fields[profile]", "predictive_analytics"): dict(_M),
}


def default_spec_path() -> Path:
    """`$KLAVIYO_SPEC_PATH`, else `<repo>/../shared/klaviyo/stable.json`."""
    env = os.environ.get(SPEC_ENV)
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    return repo.parent / "shared" / "klaviyo" / "stable.json"


@lru_cache(maxsize=4)
def load_spec(path: str | None = None) -> dict[str, Any] | None:
    """The parsed spec, or None when the file does not exist."""
    p = Path(path) if path else default_spec_path()
    if not p.is_file():
        return None
    with p.open(encoding="utf-8") as fh:
        return json.load(fh)


def parse_ratelimit(value: dict[str, str]) -> dict[str, int]:
    """`{"burst": "75/s", "steady": "750/m", "daily": "150/d"}` -> `{"burst": 75, ...}`."""
    out: dict[str, int] = {}
    for name, text in value.items():
        count, _, unit = str(text).partition("/")
        if name in WINDOW_SECONDS and WINDOW_SECONDS[name] == _UNIT_SECONDS.get(unit.strip()):
            out[name] = int(count)
    return out


def load_operations(spec: dict[str, Any] | None = None) -> list[Operation]:
    """Supported operations, scopes and limits taken from the spec when available."""
    if spec is None:
        spec = load_spec()
    ops: list[Operation] = []
    for op_id, method, path, schema in SUPPORTED:
        scopes, limits = FALLBACK[op_id]
        if spec is not None:
            node = spec["paths"][path][method.lower()]
            scopes = tuple(node.get("x-klaviyo-scopes", scopes))
            limits = parse_ratelimit(node.get("x-klaviyo-ratelimit", {})) or limits
        ops.append(Operation(op_id, method, path, tuple(scopes), dict(limits), schema))
    return ops


@lru_cache(maxsize=64)
def _path_regex(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile("^" + pattern + "/?$")
