"""Every Klaviyo operation the client calls: its name, HTTP method, path and request schema.

`KlaviyoClient` has one public method per entry of `OPERATIONS` and builds every path from this
table, so no other module writes a Klaviyo path. An operation's `name` keys the shared rate
limiter and the `SyncAttempt` rows; `path` is the spec's path template (revision 2026-07-15)
and `body_schema` the spec's name for the request body (`components.schemas`), which the
contract test (tests/klaviyo_client/) validates the bodies production sends against.

`SCOPE_PROBES` are the requests that prove a key's scopes without side effects (see scopes.py):
the same paths, sent with an intentionally invalid body `{}`, under their own operation names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str
    body_schema: str | None = None

    def path_for(self, **ids: str) -> str:
        """The path with its `{id}`/`{job_id}` filled in (each id quoted: it is one segment)."""
        return self.path.format(**{key: quote(str(value), safe="") for key, value in ids.items()})


OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    Operation("get_accounts", "GET", "/api/accounts"),
    Operation("get_lists", "GET", "/api/lists"),
    Operation("get_list", "GET", "/api/lists/{id}"),
    Operation("create_list", "POST", "/api/lists", "ListCreateQuery"),
    Operation("profile_import", "POST", "/api/profile-import", "ProfileUpsertQuery"),
    Operation("update_profile", "PATCH", "/api/profiles/{id}", "ProfilePartialUpdateQuery"),
    Operation("get_profile", "GET", "/api/profiles/{id}"),
    Operation("get_profiles", "GET", "/api/profiles"),
    Operation("bulk_import_profiles", "POST", "/api/profile-bulk-import-jobs",
              "ProfileImportJobCreateQuery"),
    Operation("get_bulk_import_job", "GET", "/api/profile-bulk-import-jobs/{job_id}"),
    Operation("get_bulk_import_errors", "GET", "/api/profile-bulk-import-jobs/{id}/import-errors"),
    Operation("add_profiles_to_list", "POST", "/api/lists/{id}/relationships/profiles",
              "ListMembersAddQuery"),
    Operation("remove_profiles_from_list", "DELETE", "/api/lists/{id}/relationships/profiles",
              "ListMembersDeleteQuery"),
    Operation("bulk_subscribe", "POST", "/api/profile-subscription-bulk-create-jobs",
              "SubscriptionCreateJobCreateQuery"),
    Operation("bulk_unsubscribe", "POST", "/api/profile-subscription-bulk-delete-jobs",
              "SubscriptionDeleteJobCreateQuery"),
    Operation("create_event", "POST", "/api/events", "EventCreateQueryV2"),
    Operation("bulk_create_events", "POST", "/api/event-bulk-create-jobs", "EventsBulkCreateJob"),
    # The flow check (flows.py), with the optional scopes `metrics:read` and `flows:read`, and
    # the ready-made flow with `flows:write` (scopes.OPTIONAL_SCOPES).
    Operation("get_metrics", "GET", "/api/metrics"),
    Operation("get_flows_triggered_by_metric", "GET", "/api/metrics/{id}/flow-triggers"),
    Operation("create_flow", "POST", "/api/flows", "FlowCreateQuery"),
    # Needs the optional scope `data-privacy:write` (scopes.OPTIONAL_SCOPES): privacy erasures.
    Operation("request_profile_deletion", "POST", "/api/data-privacy-deletion-jobs",
              "DataPrivacyCreateDeletionJobQuery"),
)}


@dataclass(frozen=True)
class ScopeProbe:
    """One scope-proving request: `operation` sent with `body` (never valid) and `params`."""

    scope: str
    operation: Operation
    ids: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] | None = None
    body: dict[str, object] | None = None


#: A syntactically valid list id for the `lists:write` probe; the body `{}` is invalid anyway.
PROBE_LIST_ID = "NMprb0"

#: One request per scope that the account check does not already prove.
SCOPE_PROBES: tuple[ScopeProbe, ...] = (
    ScopeProbe("profiles:read", Operation("verify_profiles_read", "GET", "/api/profiles"),
               params={"page[size]": "1"}),
    ScopeProbe("lists:read", Operation("verify_lists_read", "GET", "/api/lists")),
    ScopeProbe("profiles:write", Operation("verify_profiles_write", "POST",
                                           "/api/profile-import"), body={}),
    ScopeProbe("events:write", Operation("verify_events_write", "POST", "/api/events"), body={}),
    ScopeProbe("lists:write", Operation("verify_lists_write", "PATCH", "/api/lists/{id}"),
               ids={"id": PROBE_LIST_ID}, body={}),
    ScopeProbe("subscriptions:write", Operation(
        "verify_subscriptions_write", "POST", "/api/profile-subscription-bulk-create-jobs"),
        body={}),
    # Optional (scopes.OPTIONAL_SCOPES): their absence does not refuse the key. The bodies
    # `{}` are invalid, so no deletion job and no flow is ever created by a probe.
    ScopeProbe("metrics:read", Operation("verify_metrics_read", "GET", "/api/metrics")),
    ScopeProbe("flows:read", Operation("verify_flows_read", "GET", "/api/flows"),
               params={"page[size]": "1"}),
    ScopeProbe("flows:write", Operation("verify_flows_write", "POST", "/api/flows"), body={}),
    ScopeProbe("data-privacy:write", Operation(
        "verify_data_privacy_write", "POST", "/api/data-privacy-deletion-jobs"), body={}),
)
