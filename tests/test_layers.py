"""Dependencies point one way, read from the source with `ast` (nothing is imported; the
reader is tests/imports.py).

Interfaces (views, admin, commands, jobs) -> domain services -> delivery -> integration clients
-> core. What a lower layer must tell a higher one goes through a hook the higher one registers
in `AppConfig.ready()` (docs/architecture.md), never an import. Production code is every module
under notifyme/ and integrations/, migrations included; every import counts, those under
`if TYPE_CHECKING:` too, except in (d).

(a) each package in LAYERS imports, of notifyme.* and integrations.*, only what lies below it
    (and itself): integrations/ knows no domain (only notifyme.core and notifyme.shops.models,
    the shop every integration is keyed by), the catalog is below restocks and subscriptions,
    subscriptions are below sync.
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

from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise

import pytest

from tests.imports import PRODUCTION, Import, imports, is_package, read, under

STAND_INS = ("sandboxes", "integrations.klaviyo.sandbox")
DEV_TOOLS = "notifyme.dev"
STAND_IN_DEPENDENCIES = ("fastjsonschema", "jsonschema_rs", "klaviyo", "klaviyo_api")
BOTTOM = "notifyme.core"
# (importing module, imported module) -> why this one import must live in a function.
ALLOWED_FUNCTION_IMPORTS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Layer:
    package: str
    may_import: tuple[str, ...]  # of notifyme.* / integrations.*, besides the package itself
    why: str


LAYERS = [
    Layer("integrations", ("notifyme.core", "notifyme.shops.models"),
          "integrations know no domain: only core and the tenant root (Shop)"),
    Layer("integrations.klaviyo", ("notifyme.core", "notifyme.shops.models"),
          "the Klaviyo integration uses no other integration"),
    Layer("notifyme.catalog", ("notifyme.core", "notifyme.shops", "notifyme.delivery",
                               "integrations.shopify"),
          "the catalog is below restocks and subscriptions (restock detection is a catalog hook); "
          "its Shopify sync reads through the Shopify client and is nudged like other work"),
    Layer("notifyme.subscriptions", ("notifyme.core", "notifyme.shops", "notifyme.catalog"),
          "subscriptions are below sync (the outbox row is a lifecycle hook sync registers)"),
]


def _report(title: str, violations: list[str]) -> str:
    return f"{title} ({len(violations)}):\n  " + "\n  ".join(sorted(violations))


def _above(layer: Layer, found: tuple[Import, ...] | list[Import]) -> list[str]:
    """The imports in `found` by which `layer.package` reaches above itself."""
    allowed = (*layer.may_import, layer.package)
    return [str(i) for i in found if under(i.module, layer.package)
            and under(i.target, PRODUCTION) and not under(i.target, allowed)]


@pytest.mark.parametrize("layer", LAYERS, ids=[layer.package for layer in LAYERS])
def test_each_layer_imports_only_what_lies_below_it(layer: Layer) -> None:
    bad = _above(layer, imports())
    assert not bad, _report(f"{layer.package} importing above itself: {layer.why}. It may "
                            f"import only {', '.join(layer.may_import)} and itself", bad)


def test_production_never_imports_dev_tools_or_stand_ins() -> None:
    bad = []
    for i in imports():
        if under(i.module, STAND_INS):
            continue  # a stand-in left inside the package is reported by its importers/deps
        if under(i.target, STAND_INS) or under(i.target, STAND_IN_DEPENDENCIES):
            bad.append(str(i))
        elif under(i.target, DEV_TOOLS) and not under(i.module, DEV_TOOLS):
            bad.append(str(i))
    stand_ins_inside = [s for s in STAND_INS if under(s, PRODUCTION) and is_package(s)]
    bad += [f"{s} lives inside the production package" for s in stand_ins_inside]
    assert not bad, _report("production importing dev tools, stand-ins or their deps", bad)


def test_no_function_level_imports_of_our_own_code() -> None:
    bad = [str(i) for i in imports() if i.in_function and under(i.target, PRODUCTION)
           and not i.at_app_ready
           and not under(i.module, STAND_INS)  # not production code (see the test above)
           and (i.module, i.target) not in ALLOWED_FUNCTION_IMPORTS]
    assert not bad, _report("function-level imports of notifyme/integrations (a delayed "
                            "import hides a cycle; register a hook in AppConfig.ready())", bad)


def _app(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) < 2 or parts[0] != "notifyme" or not is_package(".".join(parts[:2])):
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
        "    importlib.import_module('notifyme.dev.views')\n"
    )
    found = {(i.target, i.function, i.type_only) for i in read(source, "notifyme.shops.auth")}
    assert found == {("typing", "", False), ("notifyme.shops.models", "", False),
                     ("notifyme.catalog.models", "", True),
                     ("notifyme.core.crypto", "late", False),
                     ("notifyme.dev.views", "late", False)}


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
        found = read(source, module)
        assert [i.at_app_ready for i in found] == expected
        assert [i.function for i in found] == ["SyncConfig.ready", "SyncConfig.other"]


def test_every_rule_sees_a_violation() -> None:
    """The rules above read what they should: each flags one planted import."""
    planted = [
        *read("from notifyme.sync import services\n", "integrations.klaviyo.services"),
        *read("from integrations.shopify import client\n", "integrations.klaviyo.client"),
        *read("from notifyme.restocks import services\n", "notifyme.catalog.services"),
        *read("from ..sync import models\n", "notifyme.subscriptions.services"),
    ]
    for layer, i in zip(LAYERS, planted, strict=True):
        assert _above(layer, [i]) == [str(i)]
    late = read("def f():\n    from notifyme.sync import jobs\n", "notifyme.sync.nudges")[0]
    assert late.in_function and not late.at_app_ready
    assert str(late) == "notifyme/sync/nudges.py:2 imports notifyme.sync.jobs"
