"""Dependencies point one way, read from the source with `ast` (nothing is imported).

Interfaces (views, admin, commands, jobs) -> domain services -> delivery -> integration clients
-> core. Production code is every module under notifyme/ and integrations/ except migrations.

(a) integrations/ knows no domain: of notifyme.* it may import only notifyme.core.* and
    notifyme.shops.models (the shop is the tenant every integration is keyed by).
(b) production never imports the local stand-ins (`sandboxes`, or the sandbox's old home), the
    dev tools (`notifyme.dev`, except inside notifyme/dev; the URL wiring mounts them by dotted
    string, which is not an import) or the stand-ins' own dependencies.
(c) no import of notifyme.* / integrations.* inside a function: a delayed import hides a cycle
    or an upward arrow. `AppConfig.ready()` is not such a function (see `Import.at_app_ready`);
    other exceptions go in ALLOWED_FUNCTION_IMPORTS with a one-line reason.
(d) the notifyme apps' package graph (notifyme.<app> -> notifyme.<app>, every import but those
    under `if TYPE_CHECKING:`) has no cycle, and notifyme.core depends on no other app.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("notifyme", "integrations")
INTEGRATIONS_MAY_USE = ("notifyme.core", "notifyme.shops.models")
STAND_INS = ("sandboxes", "integrations.klaviyo.sandbox")
DEV_TOOLS = "notifyme.dev"
STAND_IN_DEPENDENCIES = ("fastjsonschema", "jsonschema_rs", "klaviyo", "klaviyo_api")
BOTTOM = "notifyme.core"
# (importing module, imported module) -> why this one import must live in a function.
ALLOWED_FUNCTION_IMPORTS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. notifyme.sync.jobs
    target: str  # what it imports, resolved, e.g. notifyme.sync.nudges
    line: int
    function: str  # the enclosing function's dotted name ("" at module or class level)
    type_only: bool

    @property
    def in_function(self) -> bool:
        return bool(self.function)

    @property
    def at_app_ready(self) -> bool:
        """Inside `AppConfig.ready()` of an apps.py: the one place Django lets an app import
        its models-dependent modules (at import time the registry is not ready), and where
        hooks and handlers are registered explicitly."""
        return self.module.endswith(".apps") and self.function.endswith(".ready")

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(dotted: str) -> bool:
    return (ROOT / dotted.replace(".", "/") / "__init__.py").exists()


def _is_module(dotted: str) -> bool:
    path = ROOT / dotted.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[Import] = []
        self._scope: list[tuple[str, bool]] = []  # (name, is a function)
        self._type_only = 0

    def _add(self, target: str, node: ast.stmt) -> None:
        in_function = any(is_function for _, is_function in self._scope)
        function = ".".join(name for name, _ in self._scope) if in_function else ""
        self.found.append(Import(self.module, target, node.lineno, function,
                                 self._type_only > 0))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scope.append((node.name, False))
        self.generic_visit(node)
        self._scope.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._scope.append((node.name, True))
        self.generic_visit(node)
        self._scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node):
            self.generic_visit(node)
            return
        self._type_only += 1
        for child in node.body:
            self.visit(child)
        self._type_only -= 1
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            anchor = self.package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            self._add(submodule if _is_module(submodule) else base, node)


@cache
def imports() -> tuple[Import, ...]:
    found: list[Import] = []
    for top in PRODUCTION:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = _module_name(path)
            collector = _Collector(module, path.name == "__init__.py")
            collector.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
            found += collector.found
    return tuple(dict.fromkeys(found))  # `from x import a, b` of one module: reported once


def _under(name: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _report(title: str, violations: list[str]) -> str:
    return f"{title} ({len(violations)}):\n  " + "\n  ".join(sorted(violations))


def test_integrations_know_no_domain() -> None:
    bad = [str(i) for i in imports() if _under(i.module, "integrations")
           and _under(i.target, "notifyme") and not _under(i.target, INTEGRATIONS_MAY_USE)]
    assert not bad, _report("integrations/ importing notifyme domains", bad)


def test_production_never_imports_dev_tools_or_stand_ins() -> None:
    bad = []
    for i in imports():
        if _under(i.module, STAND_INS):
            continue  # a stand-in left inside the package is reported by its importers/deps
        if _under(i.target, STAND_INS) or _under(i.target, STAND_IN_DEPENDENCIES):
            bad.append(str(i))
        elif _under(i.target, DEV_TOOLS) and not _under(i.module, DEV_TOOLS):
            bad.append(str(i))
    stand_ins_inside = [s for s in STAND_INS if _under(s, PRODUCTION) and _is_package(s)]
    bad += [f"{s} lives inside the production package" for s in stand_ins_inside]
    assert not bad, _report("production importing dev tools, stand-ins or their deps", bad)


def test_no_function_level_imports_of_our_own_code() -> None:
    bad = [str(i) for i in imports() if i.in_function and _under(i.target, PRODUCTION)
           and not i.at_app_ready
           and not _under(i.module, STAND_INS)  # not production code (see the test above)
           and (i.module, i.target) not in ALLOWED_FUNCTION_IMPORTS]
    assert not bad, _report("function-level imports of notifyme/integrations", bad)


def _app(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) < 2 or parts[0] != "notifyme" or not _is_package(".".join(parts[:2])):
        return None
    return ".".join(parts[:2])


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of apps that reach each other (a strongly connected group), each sorted."""
    reach = {node: _reachable(graph, node) for node in sorted(graph)}
    groups: dict[frozenset[str], None] = {}
    for node, reached in reach.items():
        if node in reached:
            groups[frozenset(m for m in reached if node in reach.get(m, ()))] = None
    return [sorted(group) for group in groups]


def _shortest_cycle(graph: dict[str, set[str]], start: str) -> list[str]:
    """The shortest path start -> ... -> start (breadth first), or [] if there is none."""
    paths = {nxt: [start, nxt] for nxt in sorted(graph.get(start, ()))}
    queue = list(paths)
    while queue:
        node = queue.pop(0)
        if node == start:
            return paths[node]
        for nxt in sorted(graph.get(node, ())):
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    return []


def test_domain_apps_form_no_cycle_with_core_at_the_bottom() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    why: dict[tuple[str, str], Import] = {}
    for i in imports():
        source, target = _app(i.module), _app(i.target)
        if source and target and source != target and not i.type_only:
            graph[source].add(target)
            why.setdefault((source, target), i)
    bad = [f"{BOTTOM} -> {target} ({why[(BOTTOM, target)]})"
           for target in sorted(graph.get(BOTTOM, ()))]
    seen: set[frozenset[str]] = set()
    for group in _cycles(graph):
        for start in group:
            cycle = _shortest_cycle(graph, start)
            if cycle and frozenset(cycle) not in seen:
                seen.add(frozenset(cycle))
                edges = [str(why[(a, b)]) for a, b in pairwise(cycle)]
                bad.append(" -> ".join(cycle) + ": " + "; ".join(edges))
    assert not bad, _report("app-level dependency problems", bad)


def test_the_reader_resolves_relative_delayed_and_type_only_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "from .models import Shop\n"
        "if TYPE_CHECKING:\n"
        "    from notifyme.catalog import models\n"
        "def late():\n"
        "    from ..core import crypto\n"
    )
    collector = _Collector("notifyme.shops.auth", is_package=False)
    collector.visit(ast.parse(source))
    found = {(i.target, i.function, i.type_only) for i in collector.found}
    assert found == {("typing", "", False), ("notifyme.shops.models", "", False),
                     ("notifyme.catalog.models", "", True),
                     ("notifyme.core.crypto", "late", False)}


def test_only_app_ready_may_import_late() -> None:
    source = (
        "class SyncConfig:\n"
        "    def ready(self):\n"
        "        from notifyme.sync import lanes\n"
        "    def other(self):\n"
        "        from notifyme.sync import lanes\n"
    )
    for module, expected in (("notifyme.sync.apps", [True, False]),
                             ("notifyme.sync.jobs", [False, False])):
        collector = _Collector(module, is_package=False)
        collector.visit(ast.parse(source))
        assert [i.at_app_ready for i in collector.found] == expected
        assert [i.function for i in collector.found] == ["SyncConfig.ready", "SyncConfig.other"]
