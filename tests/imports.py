"""Every import in our own source, read with `ast` (nothing is imported): the one reader that
the layer test (tests/test_layers.py) and the packaging test (tests/test_production_package.py)
share.

Each `Import` is resolved to the module it loads: relative imports are anchored at the
importing package, `from a import b` is `a.b` when that is one of our modules and `a`
otherwise, and `importlib.import_module("literal")` counts as an import. Each also says where it
stands: inside which function, under `if TYPE_CHECKING:` or not.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("notifyme", "integrations")


@dataclass(frozen=True)
class Import:
    path: str  # the importing file, relative to the repository, e.g. notifyme/sync/jobs.py
    module: str  # the importing module, e.g. notifyme.sync.jobs
    target: str  # what it imports, resolved, e.g. notifyme.sync.nudges
    line: int
    function: str  # the enclosing function's dotted name ("" at module or class level)
    type_only: bool  # under `if TYPE_CHECKING:`

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
        return f"{self.path}:{self.line} imports {self.target}"


def under(name: str, prefixes: tuple[str, ...] | set[str] | str) -> bool:
    """`name` is one of `prefixes` or a module inside one of them."""
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package(dotted: str) -> bool:
    return (ROOT / dotted.replace(".", "/") / "__init__.py").exists()


def is_module(dotted: str) -> bool:
    path = ROOT / dotted.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def source_modules(tops: tuple[str, ...] = PRODUCTION) -> Iterator[tuple[str, Path]]:
    """(module, path) of every .py file under the top-level packages `tops`."""
    for top in tops:
        for path in sorted((ROOT / top).rglob("*.py")):
            yield module_name(path), path


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class Collector(ast.NodeVisitor):
    """The imports of one module's syntax tree, in `found`."""

    def __init__(self, module: str, is_package: bool, path: str = "") -> None:
        self.module = module
        self.path = path or module.replace(".", "/") + ".py"
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[Import] = []
        self._scope: list[tuple[str, bool]] = []  # (name, is a function)
        self._type_only = 0

    def _add(self, target: str, node: ast.stmt | ast.expr) -> None:
        in_function = any(is_function for _, is_function in self._scope)
        function = ".".join(name for name, _ in self._scope) if in_function else ""
        self.found.append(Import(self.path, self.module, target, node.lineno, function,
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
            self._add(submodule if is_module(submodule) else base, node)

    def visit_Call(self, node: ast.Call) -> None:
        if (getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
                and node.args and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            self._add(node.args[0].value, node)
        self.generic_visit(node)


def read(source: str, module: str, is_package: bool = False, path: str = "") -> list[Import]:
    """The imports of `source`, read as the module `module`."""
    collector = Collector(module, is_package, path)
    collector.visit(ast.parse(source, path or module))
    return collector.found


@cache
def imports(tops: tuple[str, ...] = PRODUCTION) -> tuple[Import, ...]:
    """Every import under `tops` (migrations included); `from x import a, b` of one module is
    reported once."""
    found: list[Import] = []
    for module, path in source_modules(tops):
        found += read(path.read_text(encoding="utf-8"), module, path.name == "__init__.py",
                      str(path.relative_to(ROOT)))
    return tuple(dict.fromkeys(found))
