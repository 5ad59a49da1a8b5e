"""The production package: `pip install .` (no extras) is the app and only what it needs.

Production code is every module under notifyme/ and integrations/ except the dev tools
(notifyme/dev/). It never imports the dev tools, the local stand-ins (sandboxes/) or the
stand-ins' own dependencies (the `sandbox` extra); every third-party module it imports comes from
a runtime dependency; the package excludes sandboxes/; and the app starts with production
settings while those modules cannot be imported at all.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path

from packaging.requirements import Requirement

from tests.core.test_production_settings import PRODUCTION
from tests.imports import ROOT, Import, imports, source_modules, under

PRODUCTION_ROOTS = ("notifyme", "integrations")
DEV_PACKAGES = ("notifyme.dev", "sandboxes")
FIRST_PARTY = {"notifyme", "integrations", "sandboxes", "tests", "bench"}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _production_modules() -> Iterator[tuple[str, Path]]:
    return ((m, path) for m, path in source_modules(PRODUCTION_ROOTS)
            if not under(m, DEV_PACKAGES))


def _production_imports() -> Iterator[Import]:
    return (i for i in imports(PRODUCTION_ROOTS) if not under(i.module, DEV_PACKAGES))


def _distributions_of(requirements: list[str]) -> set[str]:
    """The distributions `requirements` install, with everything they require in turn."""
    found: set[str] = set()
    pending = [Requirement(text) for text in requirements]
    while pending:
        requirement = pending.pop()
        name = _normal(requirement.name)
        if name in found:
            continue
        found.add(name)
        extras = {"", *requirement.extras}
        for text in importlib.metadata.requires(requirement.name) or []:
            nested = Requirement(text)
            if nested.marker is None or any(nested.marker.evaluate({"extra": e}) for e in extras):
                pending.append(nested)
    return found


def _top_level_modules_of(distributions: set[str]) -> set[str]:
    return {module for module, dists in importlib.metadata.packages_distributions().items()
            if any(_normal(dist) in distributions for dist in dists)}


def _forbidden() -> set[str]:
    """What production must not import: the dev tools, the stand-ins and whatever only the
    `sandbox` extra installs (fastjsonschema, jsonschema_rs, the official klaviyo package...)."""
    runtime = _distributions_of(PYPROJECT["project"]["dependencies"])
    sandbox_only = _distributions_of(PYPROJECT["project"]["optional-dependencies"]["sandbox"])
    return {*DEV_PACKAGES, "klaviyo", *_top_level_modules_of(sandbox_only - runtime)}


def test_the_sandbox_dependencies_are_an_extra_not_runtime_dependencies() -> None:
    runtime = {_normal(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    sandbox = {_normal(Requirement(r).name)
               for r in PYPROJECT["project"]["optional-dependencies"]["sandbox"]}
    assert sandbox == {"fastjsonschema", "jsonschema-rs", "klaviyo-api", "graphql-core",
                       "python-liquid"}
    assert not runtime & sandbox


def test_the_forbidden_set_covers_what_the_sandbox_extra_brings() -> None:
    forbidden = _forbidden()
    assert {"fastjsonschema", "jsonschema_rs", "klaviyo_api", "graphql", "sandboxes",
            "notifyme.dev"} <= forbidden
    assert not forbidden & {"django", "requests", "orjson", "notifyme", "integrations"}


def test_production_never_imports_the_dev_tools_the_stand_ins_or_their_dependencies() -> None:
    forbidden = _forbidden()
    offenders = sorted({str(i) for i in _production_imports() if under(i.target, forbidden)})
    assert not offenders, "\n".join(offenders)


#: Extras production code may import, only where it asks for them (notifyme/core/sentry.py
#: imports sentry_sdk when SENTRY_DSN is set, and refuses to start without it).
OPTIONAL_RUNTIME_EXTRAS = ("sentry",)


def test_every_third_party_import_of_production_is_a_runtime_dependency() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    allowed = _top_level_modules_of(_distributions_of([
        *PYPROJECT["project"]["dependencies"],
        *(req for extra in OPTIONAL_RUNTIME_EXTRAS for req in extras[extra])]))
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    missing = sorted({
        f"{i.path}:{i.line} imports {top}" for i in _production_imports()
        if (top := i.target.partition(".")[0]) and top not in stdlib | FIRST_PARTY | allowed
    })
    assert not missing, "\n".join(missing)


def test_the_package_excludes_the_stand_ins() -> None:
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "[tool.setuptools] is beta"
        packages = apply_configuration(Distribution(), ROOT / "pyproject.toml").packages or []
    assert {"notifyme", "notifyme.core", "integrations.klaviyo"} <= set(packages)
    assert not [p for p in packages if under(p, "sandboxes")]
    # Every production package is shipped (an __init__.py-less folder would silently be left out).
    shipped = {m for m, path in _production_modules() if path.name == "__init__.py"}
    assert shipped <= set(packages)


# Runs in a fresh interpreter: a finder refuses the forbidden modules, then Django starts with
# production settings, every production module is imported and the URLconf and checks run.
_STARTS_WITHOUT = """
import importlib, importlib.abc, sys
forbidden, modules = sys.argv[1].split(","), sys.argv[2].split(",")

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == f or name.startswith(f + ".") for f in forbidden):
            raise ImportError(f"production imported {name}")
        return None

sys.meta_path.insert(0, Refuse())
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.urls import get_resolver
assert not any(app.startswith(("notifyme.dev", "sandboxes")) for app in settings.INSTALLED_APPS)
for module in modules:
    importlib.import_module(module)
get_resolver().url_patterns
call_command("check")
print("started")
"""


def test_the_app_starts_in_production_without_the_dev_tools_or_the_sandbox_extra() -> None:
    modules = [m for m, _ in _production_modules()]
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _STARTS_WITHOUT, ",".join(sorted(_forbidden())), ",".join(modules)],
        cwd=ROOT, env={**clean, **PRODUCTION, "DJANGO_SETTINGS_MODULE": "notifyme.settings"},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0 and "started" in result.stdout, result.stderr
