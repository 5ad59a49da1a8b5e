"""STUB until h-client is merged (INTERFACES.md names only)."""
from __future__ import annotations

from typing import Any

DOCUMENTS: dict[str, Any] = {}
