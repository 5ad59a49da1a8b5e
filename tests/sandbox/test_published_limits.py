"""The production limiter's table of Klaviyo's published limits is the spec's.

Production keeps the limits as constants (`integrations.klaviyo.ratelimit.PUBLISHED_LIMITS`) and
never reads the spec; this pins that table to `x-klaviyo-ratelimit` of every operation, read
by the sandbox from the spec (or its own copy of it, itself pinned in test_cli.py).
"""

from __future__ import annotations

from integrations.klaviyo.ratelimit import PUBLISHED_LIMITS
from sandboxes.klaviyo.spec import load_operations

# Client operation -> the spec operation whose limits it is charged against.
CLIENT_OPERATIONS: dict[str, tuple[str, str]] = {
    "get_accounts": ("GET", "/api/accounts"),
    "get_lists": ("GET", "/api/lists"),
    "get_list": ("GET", "/api/lists/{id}"),
    "create_list": ("POST", "/api/lists"),
    "profile_import": ("POST", "/api/profile-import"),
    "update_profile": ("PATCH", "/api/profiles/{id}"),
    "get_profiles": ("GET", "/api/profiles"),
    "get_profile": ("GET", "/api/profiles/{id}"),
    "bulk_import_profiles": ("POST", "/api/profile-bulk-import-jobs"),
    "get_bulk_import_job": ("GET", "/api/profile-bulk-import-jobs/{job_id}"),
    "get_bulk_import_errors": ("GET", "/api/profile-bulk-import-jobs/{id}/import-errors"),
    "add_profiles_to_list": ("POST", "/api/lists/{id}/relationships/profiles"),
    "bulk_subscribe": ("POST", "/api/profile-subscription-bulk-create-jobs"),
    "bulk_unsubscribe": ("POST", "/api/profile-subscription-bulk-delete-jobs"),
    "create_event": ("POST", "/api/events"),
    "bulk_create_events": ("POST", "/api/event-bulk-create-jobs"),
}


def test_every_operation_of_the_table_is_mapped_to_the_spec() -> None:
    assert set(PUBLISHED_LIMITS) == set(CLIENT_OPERATIONS)


def test_the_table_is_the_published_limits() -> None:
    spec = {(op.method.upper(), op.path): op.limits for op in load_operations()}
    mismatches = {
        operation: (PUBLISHED_LIMITS[operation], spec.get(where))
        for operation, where in CLIENT_OPERATIONS.items()
        if PUBLISHED_LIMITS[operation] != spec.get(where)
    }
    assert not mismatches  # operation: (table, spec)
