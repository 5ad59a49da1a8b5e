"""Bulk query operations: `bulkOperationRunQuery` runs the inner query over the whole catalog.

Contract (Shopify's, as the app sees it):
- The inner query is parsed and validated against the schema first; invalid → userErrors
  `[{"field": ["query"], "code": "INVALID"}]` and no operation. One running query per shop,
  else userErrors `OPERATION_IN_PROGRESS`.
- Status CREATED (what the mutation returns) → RUNNING → COMPLETED (or FAILED with
  errorCode INTERNAL_SERVER_ERROR, or CANCELED). Connections inside have no page limits.
- The result is JSONL: one object per line; each node of a nested connection is its own line
  after its parent, with `__parentId` = the id of the enclosing line's object. `objectCount`
  counts lines, `rootObjectCount` top-level lines; `url` is served by the stand-in at
  `/_shopify/bulk/<id>.jsonl` (no auth, like Shopify's signed storage URL); null when empty.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from graphql import OperationType, get_operation_ast

from .fastexec import FastExecutor
from .graph import Ctx, gid, iso
from .roots import query_root
from .state import now
from .validate import parse_and_validate

if TYPE_CHECKING:
    from .app import StandinApp

BULK_BASE = 5_000_000_000
_CONNECTION_KEYS = {"edges", "nodes", "pageInfo"}


@dataclass
class BulkOperation:
    id: int
    shop: str
    query: str
    base_url: str
    status: str = "CREATED"
    error_code: str | None = None
    created_at: datetime = field(default_factory=now)
    completed_at: datetime | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    def view(self) -> dict[str, Any]:
        has_file = self.status == "COMPLETED" and self.object_count > 0
        return {"__typename": "BulkOperation", "id": gid("BulkOperation", self.id),
                "status": self.status, "errorCode": self.error_code, "type": "QUERY",
                "query": self.query, "createdAt": iso(self.created_at),
                "completedAt": iso(self.completed_at), "objectCount": str(self.object_count),
                "rootObjectCount": str(self.root_object_count),
                "fileSize": str(self.file_size) if self.file_size is not None else None,
                "url": f"{self.base_url}/_shopify/bulk/{self.id}.jsonl" if has_file else None,
                "partialDataUrl": None}


def _is_connection(value: Any) -> bool:
    return (isinstance(value, dict) and bool(value) and set(value) <= _CONNECTION_KEYS
            and ("edges" in value or "nodes" in value))


def _connection_nodes(value: dict[str, Any]) -> list[Any]:
    if "nodes" in value:
        return list(value["nodes"] or [])
    return [edge.get("node") for edge in value.get("edges") or [] if isinstance(edge, dict)]


def _split(obj: dict[str, Any], children: list[dict[str, Any]]) -> dict[str, Any]:
    """`obj` without its nested connections; their nodes are appended to `children`."""
    line: dict[str, Any] = {}
    for key, value in obj.items():
        if _is_connection(value):
            children.extend(n for n in _connection_nodes(value) if isinstance(n, dict))
        elif isinstance(value, dict):
            line[key] = _split(value, children)
        else:
            line[key] = value
    return line


def _emit(obj: dict[str, Any], parent_id: str | None) -> Iterator[dict[str, Any]]:
    children: list[dict[str, Any]] = []
    line = _split(obj, children)
    if parent_id is not None:
        line["__parentId"] = parent_id
    yield line
    for child in children:
        yield from _emit(child, line.get("id"))


def jsonl_lines(data: dict[str, Any]) -> Iterator[tuple[bool, dict[str, Any]]]:
    """(is_root, line) for the result of a bulk query."""
    for value in data.values():
        roots = _connection_nodes(value) if _is_connection(value) else [value]
        for root in roots:
            if isinstance(root, dict):
                for index, line in enumerate(_emit(root, None)):
                    yield index == 0, line


class BulkRunner:
    def __init__(self, app: StandinApp) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.operations: dict[int, BulkOperation] = {}
        self.directory = Path(tempfile.mkdtemp(prefix="shopify-standin-bulk-"))
        self.counter = 0

    def reset(self) -> None:
        with self.lock:
            for operation in self.operations.values():
                operation.cancel.set()
            self.operations.clear()
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory.mkdir(parents=True, exist_ok=True)

    def get(self, shop: str, operation_id: int) -> BulkOperation | None:
        operation = self.operations.get(operation_id)
        return operation if operation is not None and operation.shop == shop else None

    def current(self, shop: str) -> BulkOperation | None:
        mine = [op for op in self.operations.values() if op.shop == shop]
        return max(mine, key=lambda op: op.id) if mine else None

    def path(self, operation_id: int) -> Path:
        return self.directory / f"{operation_id}.jsonl"

    def start(self, ctx: Ctx, query: str) -> dict[str, Any]:
        document, errors = parse_and_validate(self.app, query)
        op = get_operation_ast(document) if document is not None else None
        if document is None or op is None or op.operation != OperationType.QUERY:
            message = errors[0]["message"] if errors else "must be one query operation"
            return {"bulkOperation": None, "userErrors": [
                {"field": ["query"], "message": f"Invalid bulk query: {message}",
                 "code": "INVALID"}]}
        with self.lock:
            running = self.current(ctx.shop.domain)
            if running is not None and running.status in ("CREATED", "RUNNING"):
                return {"bulkOperation": None, "userErrors": [{
                    "field": None, "code": "OPERATION_IN_PROGRESS",
                    "message": "A bulk query operation for this app and shop is already in "
                               f"progress: {gid('BulkOperation', running.id)}."}]}
            self.counter += 1
            operation = BulkOperation(id=BULK_BASE + self.counter, shop=ctx.shop.domain,
                                      query=query, base_url=ctx.base_url)
            self.operations[operation.id] = operation
        created = operation.view()
        threading.Thread(target=self._run, args=(ctx, operation, document),
                         name=f"bulk-{operation.id}", daemon=True).start()
        return {"bulkOperation": created, "userErrors": []}

    def cancel(self, ctx: Ctx, operation_id: int) -> dict[str, Any]:
        operation = self.get(ctx.shop.domain, operation_id)
        if operation is None:
            return {"bulkOperation": None, "userErrors": [
                {"field": ["id"], "message": "Bulk operation does not exist"}]}
        if operation.status in ("CREATED", "RUNNING"):
            operation.cancel.set()
            operation.status = "CANCELING"
        return {"bulkOperation": operation.view(), "userErrors": []}

    def _run(self, ctx: Ctx, operation: BulkOperation, document: Any) -> None:
        operation.status = "RUNNING"
        if operation.cancel.wait(self.app.config.bulk_pause) or operation.cancel.is_set():
            operation.status, operation.completed_at = "CANCELED", now()
            return
        bulk_ctx = Ctx(app=self.app, shop=ctx.shop, unbounded=True, base_url=ctx.base_url)
        try:
            data = FastExecutor(self.app.schema, document).run(query_root(bulk_ctx))
            self._write(operation, data)
        except Exception:
            operation.status, operation.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
            operation.completed_at = now()
            return
        operation.completed_at = now()
        operation.status = "CANCELED" if operation.cancel.is_set() else "COMPLETED"

    def _write(self, operation: BulkOperation, data: dict[str, Any]) -> None:
        path = self.path(operation.id)
        with path.open("wb") as handle:
            for is_root, line in jsonl_lines(data):
                if operation.cancel.is_set():
                    break
                handle.write(orjson.dumps(line) + b"\n")
                operation.object_count += 1
                operation.root_object_count += is_root
        operation.file_size = path.stat().st_size
