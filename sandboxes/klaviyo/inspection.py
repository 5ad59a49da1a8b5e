"""What the sandbox received, per account: stats and a small HTML page ("what Klaviyo saw").

Keys appear only masked (`pk_…abcd`); the page escapes every value it shows.
"""

from __future__ import annotations

import json
from collections import Counter
from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry import Registry
    from .state import AccountState

PAGE_ROWS = 200


def account_stats(registry: Registry, account: AccountState) -> dict[str, Any]:
    """Counts tests and benchmarks assert on. Caller may hold the account lock."""
    fault = registry.fault(account.id)
    with account.lock:
        by_status = Counter(str(r["status"]) for r in account.requests)
        return {
            "requests": account.request_count,
            "throttled": account.throttled,
            "duplicates_dropped": account.duplicates_dropped,
            "events": len(account.events),
            "events_by_metric": dict(Counter(e["metric"] for e in account.events)),
            "profiles": len(account.profiles),
            "lists": len(account.lists),
            "list_members": {k: len(v) for k, v in account.members.items()},
            "subscriptions": len(account.consents),
            "unsubscriptions": len(account.unsubscriptions),
            "metrics": len(account.metrics),
            "jobs": len(account.jobs),
            "by_status": dict(by_status),
            "faults_served": fault.served if fault else 0,
        }


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(_cell(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _account_section(registry: Registry, account: AccountState) -> str:
    stats = account_stats(registry, account)
    with account.lock:
        requests = list(account.requests)[-PAGE_ROWS:][::-1]
        profiles = list(account.profiles.values())[-PAGE_ROWS:]
        consents = list(account.consents.values())[-PAGE_ROWS:]
        events = list(account.events)[-PAGE_ROWS:][::-1]
        members = {lid: list(m)[:PAGE_ROWS] for lid, m in account.members.items()}
        lists = {r.id: r.name for r in account.lists.values()}
    keys = registry.keys(account.id)
    parts = [f"<section><h2>{escape(account.name)} <small>({escape(account.id)})</small></h2>"]
    parts.append(_table(["requests", "429s served", "duplicates dropped", "events", "profiles",
                         "subscriptions"],
                        [[stats["requests"], stats["throttled"], stats["duplicates_dropped"],
                          stats["events"], stats["profiles"], stats["subscriptions"]]]))
    parts.append("<h3>Keys</h3>" + _table(
        ["key", "scopes", "revoked"],
        [[k["key"], k["scopes"] if isinstance(k["scopes"], str) else ", ".join(k["scopes"]),
          k["revoked"]] for k in keys]))
    parts.append("<h3>Requests (newest first)</h3>" + _table(
        ["time", "method", "path", "status", "key", "ms", "bytes", "error", "fault"],
        [[r["time"], r["method"], r["path"], r["status"], r["key"], r["duration_ms"],
          r["body_size"], r.get("error_code", ""), r.get("fault", "")] for r in requests]))
    parts.append("<h3>Profiles</h3>" + _table(
        ["id", "email", "phone", "external id", "first name", "properties"],
        [[p.id, p.get("email") or "", p.get("phone_number") or "", p.get("external_id") or "",
          p.get("first_name") or "", p.properties] for p in profiles]))
    parts.append("<h3>List members</h3>" + _table(
        ["list", "name", "members"],
        [[lid, lists.get(lid, "(deleted)"), ", ".join(ids)] for lid, ids in members.items()]))
    parts.append("<h3>Subscriptions (consent)</h3>" + _table(
        ["profile", "email", "phone", "channel", "list", "source", "consented at"],
        [[c["profile_id"], c["email"] or "", c["phone_number"] or "", c["channel"],
          c["list_id"] or "", c["custom_source"] or "", c["consented_at"]] for c in consents]))
    parts.append("<h3>Events by metric</h3>" + _table(
        ["metric", "count"], [[m, n] for m, n in stats["events_by_metric"].items()]))
    parts.append("<h3>Latest events</h3>" + _table(
        ["time", "metric", "profile", "unique_id", "properties"],
        [[e["time"], e["metric"], e["profile_id"], e["unique_id"] or "", e["properties"]]
         for e in events]))
    parts.append("</section>")
    return "".join(parts)


def render_html(registry: Registry, account_id: str | None = None) -> str:
    accounts = [a for a in list(registry.accounts.values())
                if account_id is None or a.id == account_id]
    sections = "".join(_account_section(registry, a) for a in accounts) or (
        "<p>No accounts yet. Create one with POST /_sandbox/accounts.</p>")
    if account_id is None and registry.unattributed:
        rows = [[r["time"], r["method"], r["path"], r["status"], r["key"], r.get("error_code", "")]
                for r in list(registry.unattributed)[-PAGE_ROWS:][::-1]]
        sections += ("<section><h2>Requests without a known key</h2>"
                     + _table(["time", "method", "path", "status", "key", "error"], rows)
                     + "</section>")
    style = ("body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}"
             "table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.85rem}"
             "td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}"
             "th{background:#f3f3f3}section{border-top:3px solid #333;margin-top:1.5rem}")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Klaviyo sandbox</title>"
            f"<style>{style}</style></head><body><h1>Klaviyo sandbox — what Klaviyo received</h1>"
            f"{sections}</body></html>")
