"""Parsing and validating documents against the official schema; errors in Shopify's shape."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from graphql import DocumentNode, GraphQLError, parse, validate

if TYPE_CHECKING:
    from .app import StandinApp

_CODES = (
    (re.compile(r"^Cannot query field '(?P<field>\w+)' on type '(?P<type>\w+)'"),
     "undefinedField"),
    (re.compile(r"^Unknown argument '"), "argumentNotAccepted"),
    (re.compile(r"^(Field '.*' argument|Argument) '.*' of type '.*' is required"),
     "missingRequiredArguments"),
    (re.compile(r"^Unknown type '"), "undefinedType"),
    (re.compile(r"^Variable '.*' is never used"), "variableNotUsed"),
    (re.compile(r"^Variable '.*' is not defined"), "undefinedVariable"),
    (re.compile(r"^Syntax Error"), "syntaxError"),
    (re.compile(r"must have a selection of subfields|must not have a selection"),
     "selectionMismatch"),
)


def error_dict(error: GraphQLError) -> dict[str, Any]:
    """graphql-core's error in Shopify's shape (extensions.code always present)."""
    out: dict[str, Any] = {"message": error.message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = list(error.path)
    extensions = dict(error.extensions or {})
    if "code" not in extensions:
        extensions["code"] = "BAD_REQUEST"
        for pattern, code in _CODES:
            match = pattern.search(error.message)
            if match:
                extensions["code"] = code
                extensions.update({k + "Name": v for k, v in match.groupdict().items()})
                break
    out["extensions"] = extensions
    return out


def parse_and_validate(app: StandinApp, query: str) -> tuple[DocumentNode | None,
                                                             list[dict[str, Any]]]:
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, [error_dict(exc)]
    errors = validate(app.schema, document)
    return (None, [error_dict(e) for e in errors]) if errors else (document, [])


