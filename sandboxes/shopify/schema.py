"""Shopify's official Admin GraphQL schema (2026-10), for the stand-in and the contract test.

Where the file comes from, first found wins:
1. `SHOPIFY_ADMIN_SCHEMA` (a path to the `.json.gz` introspection result);
2. `../shared/shopify/admin_2026-10.json.gz` beside the checkout (this workplace);
3. the npm package `@shopify/dev-mcp` (`dist/data/admin_2026-10.json.gz`), installed on first use
   into `.cache/shopify-dev-mcp/` of the checkout — so a fresh clone elsewhere validates against
   the same file instead of skipping.

The schema is built once per process (`build_client_schema` of ~6 MB takes about a second).
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

from graphql import GraphQLSchema, build_client_schema

API_VERSION = "2026-10"
ROOT = Path(__file__).resolve().parents[2]
FILE_NAME = f"admin_{API_VERSION}.json.gz"
NPM_PACKAGE = "@shopify/dev-mcp@1.16.0"
NPM_PREFIX = ROOT / ".cache" / "shopify-dev-mcp"
NPM_FILE = NPM_PREFIX / "node_modules" / "@shopify" / "dev-mcp" / "dist" / "data" / FILE_NAME


class SchemaUnavailable(RuntimeError):
    """Neither the shared file nor the npm package could be found or installed."""


def _npm_install() -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise SchemaUnavailable("npm is not installed: cannot fetch @shopify/dev-mcp")
    NPM_PREFIX.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 - fixed arguments, our own cache folder
        [npm, "install", "--prefix", str(NPM_PREFIX), "--no-save", "--ignore-scripts",
         "--no-audit", "--no-fund", NPM_PACKAGE],
        check=True, capture_output=True, timeout=300,
    )
    if not NPM_FILE.exists():
        raise SchemaUnavailable(f"{NPM_PACKAGE} has no {FILE_NAME}")
    return NPM_FILE


def schema_path() -> Path:
    """The schema file, installing the npm package when nothing else has it."""
    override = os.environ.get("SHOPIFY_ADMIN_SCHEMA")
    if override:
        return Path(override)
    shared = ROOT.parent / "shared" / "shopify" / FILE_NAME
    if shared.exists():
        return shared
    if NPM_FILE.exists():
        return NPM_FILE
    return _npm_install()


@functools.cache
def load_schema() -> GraphQLSchema:
    """The 2026-10 Admin API schema (assume_valid: graphql-core 3.3 rejects some of the
    schema's own deprecation choices otherwise — see ../shared/shopify/README.txt)."""
    with gzip.open(schema_path()) as handle:
        introspection = json.load(handle)
    return build_client_schema(introspection["data"], assume_valid=True)
