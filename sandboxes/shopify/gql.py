"""`POST /{shop}/admin/api/2026-10/graphql.json`: auth, validation, cost, throttling, execution.

Order, as Shopify answers: unknown shop 404; `X-Shopify-Access-Token` missing, unknown, expired
or revoked → 401 `{"errors": "[API] Invalid API key or access token ..."}`; body without a
`query` → 400; syntax/validation errors against the official 2026-10 schema → 200 with
`errors` (message, locations, extensions.code as Shopify names them, e.g. `undefinedField`);
requested cost above the single-query limit → `MAX_COST_EXCEEDED`; above what the bucket holds
→ `THROTTLED` (HTTP 200); else executed over the in-memory state (queries under the state lock,
so a response is one consistent snapshot) with `extensions.cost` on every answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    OperationDefinitionNode,
    OperationType,
    execute_sync,
    get_operation_ast,
)

from .cost import Bucket, costs
from .graph import Ctx, resolve
from .roots import mutation_root, query_root
from .validate import error_dict, parse_and_validate
from .web import HttpError, Request, Response

if TYPE_CHECKING:
    from .app import StandinApp

INVALID_TOKEN = ("[API] Invalid API key or access token (unrecognized login or wrong "  # noqa: S105
                 "password)")
DOCS = "https://shopify.dev/api/usage/rate-limits"


def _cost_body(requested: int, actual: int | None, bucket: Bucket) -> dict[str, Any]:
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                     "throttleStatus": bucket.status()}}


def graphql_endpoint(app: StandinApp, shop_domain: str, req: Request) -> Response:
    shop = app.world.shop(shop_domain)
    if app.tokens.authenticate(shop.domain, req.headers.get("x-shopify-access-token")) is None:
        return Response(401, {"errors": INVALID_TOKEN})
    body = _body(req)
    document, errors = parse_and_validate(app, body["query"])
    if document is None:
        return Response(200, {"errors": errors})
    op = get_operation_ast(document, body.get("operationName"))
    if op is None:
        return Response(200, {"errors": [{"message": "An operation name is required",
                                          "extensions": {"code": "BAD_REQUEST"}}]})
    variables = body.get("variables") or {}
    requested, _ = costs(app.schema, document, op, variables)
    bucket = app.bucket(shop.domain)
    limit = int(min(app.config.max_query_cost, app.config.bucket_max))
    if requested > limit:
        app.count(shop.domain, requests=1, max_cost_exceeded=1)
        return Response(200, {"errors": [{
            "message": f"Query cost is {requested}, which exceeds the single query max cost "
                       f"limit ({limit}).",
            "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": limit,
                           "documentation": DOCS}}],
            "extensions": _cost_body(requested, None, bucket)})
    if not bucket.take(requested, app.config.bucket_max, app.config.restore_rate):
        app.count(shop.domain, requests=1, throttled=1)
        return Response(200, {"errors": [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": DOCS}}],
            "extensions": _cost_body(requested, None, bucket)})
    ctx = Ctx(app=app, shop=shop, base_url=req.base_url)
    answer = _run(app, ctx, document, op, variables, body.get("operationName"))
    actual = costs(app.schema, document, op, variables, answer.get("data") or {})[1] or 0
    if op.operation == OperationType.MUTATION:
        actual = requested
    bucket.refund(requested - actual)
    app.count(shop.domain, requests=1, cost_requested=requested, cost_actual=actual)
    answer["extensions"] = _cost_body(requested, actual, bucket)
    return Response(200, answer)


def _body(req: Request) -> dict[str, Any]:
    missing = HttpError(400, {"errors": {"query": "Required parameter missing or invalid"}})
    try:
        body = req.json()
    except ValueError:
        raise missing from None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise missing
    if body.get("variables") is not None and not isinstance(body["variables"], dict):
        raise HttpError(400, {"errors": {"variables": "must be an object"}})
    return body


def _run(app: StandinApp, ctx: Ctx, document: DocumentNode, op: OperationDefinitionNode,
         variables: dict[str, Any], operation_name: str | None) -> dict[str, Any]:
    is_mutation = op.operation == OperationType.MUTATION
    root = mutation_root(ctx) if is_mutation else query_root(ctx)
    with app.world.lock:
        result = execute_sync(app.schema, document, root_value=root, context_value=ctx,
                         variable_values=variables, operation_name=operation_name,
                         field_resolver=resolve)
    answer: dict[str, Any] = {"data": result.data}
    if result.errors:
        answer["errors"] = [error_dict(e) for e in result.errors]
    return answer
