"""STUB until h-client is merged (INTERFACES.md names only)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def products_page(client: Any, *, after: str | None) -> Any:
    raise NotImplementedError


def catalog_counts(client: Any) -> Any:
    raise NotImplementedError


def locations(client: Any) -> Any:
    raise NotImplementedError


def bulk_catalog_start(client: Any) -> str:
    raise NotImplementedError


def bulk_operation(client: Any, *, operation_id: str) -> Any:
    raise NotImplementedError


def bulk_results(url: str) -> Iterator[dict[str, Any]]:
    raise NotImplementedError
