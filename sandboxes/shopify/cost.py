"""Query cost as Shopify documents it, and the per-shop leaky bucket.

Requested cost (before running): scalars and enums 0; an object 1 plus its selection; a
connection 2 + (first|last) x (1 + the node's selection) (`edges { node }` or `nodes`, whichever
costs more; `pageInfo` is free); `nodes(ids:)` len(ids) x (1 + selection); other lists of
objects count once; inline fragments on different types count the most expensive one; every
mutation field 10. Actual cost: the same rules over what was returned (real node counts).
Bucket: `maximumAvailable` points, refilled at `restoreRate` per second; a query is refused
(`THROTTLED`) when its requested cost exceeds what is currently available; the difference
between requested and actual is refunded after execution.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

MUTATION_COST = 10


class CostWalker:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 variables: dict[str, Any] | None) -> None:
        self.schema = schema
        self.variables = variables or {}
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, FragmentDefinitionNode)}

    def operation(self, op: OperationDefinitionNode, data: Any = None,
                  actual: bool = False) -> int:
        if op.operation == OperationType.MUTATION:
            return MUTATION_COST * len(op.selection_set.selections)
        root = self.schema.query_type
        assert root is not None
        return self.selection(op.selection_set, root, data, actual)

    def _fields(self, selection_set: SelectionSetNode, parent: Any
                ) -> list[tuple[str | None, FieldNode]]:
        """(type condition, field) pairs, fragments flattened."""
        out: list[tuple[str | None, FieldNode]] = []
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                out.append((None, node))
            elif isinstance(node, InlineFragmentNode):
                cond = node.type_condition.name.value if node.type_condition else None
                out += [(cond or c, f) for c, f in self._fields(node.selection_set, parent)]
            elif isinstance(node, FragmentSpreadNode):
                frag = self.fragments.get(node.name.value)
                if frag is not None:
                    cond = frag.type_condition.name.value
                    out += [(c or cond, f) for c, f in self._fields(frag.selection_set, parent)]
        return out

    def selection(self, selection_set: SelectionSetNode | None, parent: Any, data: Any,
                  actual: bool) -> int:
        if selection_set is None:
            return 0
        if actual and not isinstance(data, dict):
            return 0
        groups: dict[str | None, int] = {}
        for condition, field in self._fields(selection_set, parent):
            key = field.alias.value if field.alias else field.name.value
            if actual and key not in data:
                continue
            owner = self.schema.get_type(condition) if condition else parent
            cost = self.field(field, owner, data.get(key) if actual else None, actual)
            groups[condition] = groups.get(condition, 0) + cost
        base = groups.pop(None, 0)
        extra = sum(groups.values()) if actual else max(groups.values(), default=0)
        return base + extra

    def field(self, field: FieldNode, owner: Any, data: Any, actual: bool) -> int:
        name = field.name.value
        if name.startswith("__") or not hasattr(owner, "fields") or name not in owner.fields:
            return 0
        field_type = owner.fields[name].type
        named = get_named_type(field_type)
        if is_leaf_type(named):
            return 0
        args = {a.name.value: value_from_ast_untyped(a.value, self.variables)
                for a in field.arguments or ()}
        if named.name.endswith("Connection") and isinstance(named, GraphQLObjectType):
            return self._connection(field, named, args, data, actual)
        inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
        if isinstance(inner, GraphQLList):
            if actual:
                return sum(1 + self.selection(field.selection_set, named, item, True)
                           for item in (data or []) if item is not None)
            count = len(args["ids"]) if isinstance(args.get("ids"), list) else 1
            return count * (1 + self.selection(field.selection_set, named, None, False))
        if actual and data is None:
            return 0
        return 1 + self.selection(field.selection_set, named, data, actual)

    def _connection(self, field: FieldNode, conn: GraphQLObjectType, args: dict[str, Any],
                    data: Any, actual: bool) -> int:
        if actual and data is None:
            return 0
        node_type = get_named_type(conn.fields["nodes"].type) if "nodes" in conn.fields \
            else None
        edge_type = get_named_type(conn.fields["edges"].type) if "edges" in conn.fields \
            else None
        per_node, counted = 0, 0
        for _, sub in self._fields(field.selection_set, conn) if field.selection_set else []:
            key = sub.alias.value if sub.alias else sub.name.value
            if sub.name.value == "nodes" and node_type is not None:
                items = (data or {}).get(key) or [] if actual else [None]
                cost = sum(1 + self.selection(sub.selection_set, node_type, item, actual)
                           for item in items)
            elif sub.name.value == "edges" and edge_type is not None:
                edges = (data or {}).get(key) or [] if actual else [None]
                cost = sum(self.selection(sub.selection_set, edge_type,
                                          edge, actual) for edge in edges)
            elif sub.name.value == "pageInfo":
                continue  # free
            else:
                counted += self.field(sub, conn, (data or {}).get(key), actual)
                continue
            per_node = max(per_node, cost)
        if actual:
            return 2 + per_node + counted
        size = args.get("first") or args.get("last") or 0
        return 2 + int(size) * per_node + counted


def costs(schema: GraphQLSchema, document: DocumentNode, op: OperationDefinitionNode,
          variables: dict[str, Any] | None, data: Any = None) -> tuple[int, int | None]:
    walker = CostWalker(schema, document, variables)
    requested = walker.operation(op)
    actual = walker.operation(op, data, actual=True) if data is not None else None
    return requested, actual


class Bucket:
    """One shop's leaky bucket (thread-safe)."""

    def __init__(self, maximum: float, restore_rate: float) -> None:
        self.lock = threading.Lock()
        self.maximum, self.restore_rate = maximum, restore_rate
        self.available = maximum
        self.at = time.monotonic()

    def _refill(self, maximum: float, restore_rate: float) -> None:
        moment = time.monotonic()
        self.maximum, self.restore_rate = maximum, restore_rate
        self.available = min(maximum, self.available + (moment - self.at) * restore_rate)
        self.at = moment

    def take(self, cost: int, maximum: float, restore_rate: float) -> bool:
        with self.lock:
            self._refill(maximum, restore_rate)
            if cost > self.available:
                return False
            self.available -= cost
            return True

    def refund(self, points: int) -> None:
        with self.lock:
            self.available = min(self.maximum, self.available + max(0, points))

    def status(self) -> dict[str, float]:
        with self.lock:
            self._refill(self.maximum, self.restore_rate)
            return {"maximumAvailable": float(self.maximum),
                    "currentlyAvailable": float(int(self.available)),
                    "restoreRate": float(self.restore_rate)}
