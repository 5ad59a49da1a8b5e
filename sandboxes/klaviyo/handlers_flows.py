"""Flows: list them, the flows a metric triggers, and create one (a metric trigger).

Like Klaviyo, a created flow starts as a `draft`; only the merchant sets it live in Klaviyo's
editor (here the admin API's `POST /_sandbox/accounts/{id}/flows` plays that part). The body
was validated against the spec's `FlowCreateQuery` before this runs.
"""

from __future__ import annotations

from typing import Any

from .errors import invalid, not_found
from .resources import matches, parse_filter
from .state import Flow
from .web import Request, Response, collection, page_links, page_window

FLOW_FILTERS = {"name": {"equals", "contains"}, "status": {"equals"}, "archived": {"equals"}}


def flow_resource(flow: Flow, base: str) -> dict[str, Any]:
    return {"type": "flow", "id": flow.id,
            "attributes": {"name": flow.name, "status": flow.status, "archived": flow.archived,
                           "created": flow.created, "updated": flow.updated,
                           "trigger_type": "Metric" if flow.metric_id else "Unconfigured"},
            "links": {"self": f"{base}/api/flows/{flow.id}/"}}


def get_flows(req: Request) -> Response:
    assert req.account is not None
    filters = parse_filter(req.arg("filter"), FLOW_FILTERS)
    found = [f for f in req.account.flows.values()
             if matches(filters, lambda name, f=f: str(getattr(f, name)).lower()
                        if name == "archived" else getattr(f, name))]
    start, size = page_window(req, len(found), 50, 50)
    items = [flow_resource(f, req.base_url) for f in found[start:start + size]]
    return Response(200, collection(items, *page_links(req, start, size, len(found))))


def get_flows_triggered_by_metric(req: Request) -> Response:
    assert req.account is not None
    metric_id = req.params["id"]
    if not any(m.id == metric_id for m in req.account.metrics.values()):
        raise not_found(f"Metric {metric_id} not found.")
    flows = [flow_resource(f, req.base_url) for f in req.account.flows.values()
             if f.metric_id == metric_id]
    return Response(200, collection(flows, f"{req.base_url}/api/metrics/{metric_id}/"
                                           "flow-triggers/"))


def create_flow(req: Request) -> Response:
    assert req.account is not None
    attrs = req.body["data"]["attributes"]
    if not str(attrs["name"]).strip():
        raise invalid("Flow name may not be blank.", pointer="/data/attributes/name")
    definition = attrs["definition"]
    triggers = definition.get("triggers") or []
    if len(triggers) != 1:
        raise invalid("Only one trigger is supported.",
                      pointer="/data/attributes/definition/triggers")
    trigger = triggers[0]
    # (Klaviyo's answer to a metric id the account lacks is not documented: not modelled.)
    metric_id = trigger.get("id") if trigger.get("type") == "metric" else None
    flow = req.account.add_flow(name=attrs["name"], metric_id=metric_id, definition=definition)
    return Response(201, {"data": flow_resource(flow, req.base_url),
                          "links": {"self": f"{req.base_url}/api/flows/{flow.id}/"}})
