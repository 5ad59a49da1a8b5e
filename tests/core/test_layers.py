"""Dependencies point down: interfaces → domain services → delivery → integration clients →
core. What a lower layer must tell a higher one goes through a hook the higher one registers
in `AppConfig.ready()` (docs/architecture.md), never an import — not even inside a function."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> Iterator[tuple[str, str]]:
    """(file, imported module) for every import anywhere in `package` (function bodies too)."""
    for path in sorted((ROOT / package.replace(".", "/")).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                yield str(path.relative_to(ROOT)), name


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


#: (package, what it may import from notifyme/integrations, exempt sub-packages)
RULES = [
    # The integration knows no domain: only core and the tenant root (Shop).
    ("integrations.klaviyo", ("notifyme.core", "notifyme.shops.models", "integrations.klaviyo"),
     ("integrations/klaviyo/sandbox",)),
    # The catalog is below restocks and subscriptions (restock detection is a catalog hook).
    # (Its `demo` command, a dev tool, is on its way to notifyme/dev.)
    ("notifyme.catalog", ("notifyme.core", "notifyme.shops", "notifyme.catalog"),
     ("notifyme/catalog/management",)),
    # Subscriptions are below sync (the outbox row is a lifecycle hook sync registers).
    ("notifyme.subscriptions", ("notifyme.core", "notifyme.shops", "notifyme.catalog",
                                "notifyme.subscriptions"), ()),
]


@pytest.mark.parametrize("package,allowed,exempt", RULES, ids=[r[0] for r in RULES])
def test_no_upward_imports(package: str, allowed: tuple[str, ...],
                           exempt: tuple[str, ...]) -> None:
    upward = sorted(
        f"{path}: {name}" for path, name in imported_modules(package)
        if _within(name, ("notifyme", "integrations")) and not _within(name, allowed)
        and not path.startswith(exempt)
    )
    assert upward == []
