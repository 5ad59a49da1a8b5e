"""Request-body validation against Klaviyo's own schemas.

Contract: `validator_for(schema_name)(body)` raises `ApiError(400, "invalid", pointer=...)` when
the body does not match the spec's `components.schemas[schema_name]`, and returns None otherwise.

How: the spec's OpenAPI 3.0 schema is turned into JSON Schema once (refs inlined, `nullable` on a
typed schema -> `"null"` allowed, `nullable` beside a `$ref` ignored as OpenAPI 3.0 says, `oneOf`
-> `anyOf` because some branches overlap, `additionalProperties: false` on every object that
declares properties because Klaviyo rejects undeclared fields) and compiled twice: jsonschema-rs
(Rust) decides whether a body is valid, fastjsonschema (Python) says what is wrong with one that
is not. A valid body — nearly every body, 1,000 events at a time — costs only the Rust check:
a small fraction of fastjsonschema's time for the same body (figures in docs/benchmarks.md).
The rejection message and pointer come from
fastjsonschema as before. The two implement the keywords these schemas use (type, enum,
required, additionalProperties, anyOf, items, date/date-time formats through the same checks)
alike, and tests/sandbox/test_contract.py holds them to it; should fastjsonschema ever accept a
body the Rust check rejected, the Rust error is reported. Without the spec file, the
official `klaviyo-api` package's generated pydantic models are used instead
(`model_validation.py`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import fastjsonschema
import jsonschema_rs

from .errors import ApiError, invalid
from .spec import load_spec

Validator = Callable[[Any], None]
_DROP = {"description", "example", "examples", "default", "readOnly", "writeOnly", "discriminator",
         "nullable", "title", "deprecated", "externalDocs", "xml"}


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return False
    return True


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


FORMATS: dict[str, Callable[[str], bool]] = {"date-time": _is_datetime, "date": _is_date}


def to_json_schema(node: Any, components: dict[str, Any], depth: int = 0) -> Any:
    """Convert an OpenAPI 3.0 schema node into strict JSON Schema (see module docstring)."""
    if depth > 40:
        return {}
    if isinstance(node, list):
        return [to_json_schema(n, components, depth + 1) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:  # siblings of a $ref (nullable too) are ignored, as OpenAPI 3.0 says
        name = node["$ref"].rsplit("/", 1)[-1]
        return to_json_schema(components[name], components, depth + 1)
    out = _keywords(node, components, depth)
    if node.get("nullable") is True:
        _allow_null(out)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


#: Keywords whose value is a schema (or a list of them), by the name JSON Schema gives them.
_SUBSCHEMAS = {"items": "items", "additionalProperties": "additionalProperties", "not": "not",
               "oneOf": "anyOf", "anyOf": "anyOf", "allOf": "allOf"}


def _keywords(node: dict[str, Any], components: dict[str, Any], depth: int) -> dict[str, Any]:
    """Every keyword of `node` but the dropped ones, sub-schemas converted, `oneOf` as `anyOf`."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key.startswith("x-"):
            continue
        if key == "properties":
            out[key] = {k: to_json_schema(v, components, depth + 1) for k, v in value.items()}
        elif key in _SUBSCHEMAS:
            out[_SUBSCHEMAS[key]] = to_json_schema(value, components, depth + 1)
        else:
            out[key] = value
    return out


def _allow_null(out: dict[str, Any]) -> None:
    """OpenAPI's `nullable: true` in JSON Schema: null for the type, the enum and the anyOf."""
    if "type" in out:
        out["type"] = [out["type"], "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    if "anyOf" in out:
        out["anyOf"] = [*out["anyOf"], {"type": "null"}]


def _pointer(path: list[Any]) -> str:
    parts = [str(p) for p in path[1:]]  # path[0] is fastjsonschema's root name "data"
    return "/" + "/".join(parts) if parts else "/"


def _error_from(exc: fastjsonschema.JsonSchemaValueException) -> ApiError:
    path = list(exc.path or ["data"])
    pointer = _pointer(path)
    rule = exc.rule
    field = str(path[-1]) if len(path) > 1 else "data"
    if rule == "additionalProperties" and isinstance(exc.value, dict):
        declared = set((exc.definition or {}).get("properties", {}))
        extra = sorted(k for k in exc.value if k not in declared)
        name = extra[0] if extra else field
        return invalid(f"'{name}' is not a valid field for this resource.",
                       pointer=f"{pointer.rstrip('/')}/{name}")
    if rule == "required":
        required = list(exc.rule_definition or [])
        present = exc.value if isinstance(exc.value, dict) else {}
        names = [n for n in required if n not in present]
        name = names[0] if names else field
        return invalid(f"'{name}' is a required field.", pointer=f"{pointer.rstrip('/')}/{name}")
    if rule == "enum":
        allowed = ", ".join(repr(v) for v in (exc.rule_definition or []))
        return invalid(f"'{field}' must be one of {allowed}.", pointer=pointer)
    if rule == "type":
        kinds = exc.rule_definition
        kinds = [k for k in kinds if k != "null"] if isinstance(kinds, list) else [kinds]
        return invalid(f"'{field}' must be of type {' or '.join(map(str, kinds))}.",
                       pointer=pointer)
    if rule == "format":
        return invalid(f"'{field}' is not a valid {exc.rule_definition}.", pointer=pointer)
    if rule == "anyOf":
        return invalid(f"'{field}' has an invalid value.", pointer=pointer)
    return invalid(f"Invalid input at {pointer}: {exc.message.replace('data.', '', 1)}",
                   pointer=pointer)


def _rust_error(exc: jsonschema_rs.ValidationError) -> ApiError:
    """The Rust check's rejection, in the explainer's words where they differ: a missing or an
    undeclared field is named in the pointer."""
    base = "/" + "/".join(str(p) for p in exc.instance_path)
    kind = exc.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        name = str(kind.property)
        return invalid(f"'{name}' is a required field.", pointer=f"{base.rstrip('/')}/{name}")
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        name = str(sorted(kind.unexpected)[0])
        return invalid(f"'{name}' is not a valid field for this resource.",
                       pointer=f"{base.rstrip('/')}/{name}")
    return invalid(f"Invalid input at {base}: {exc.message}", pointer=base)


#: Above this many characters of inlined JSON Schema, fastjsonschema's compile takes seconds
#: (FlowCreateQuery: 1.1 MB, 20 s), so such a schema's rejections carry the Rust message.
EXPLAIN_MAX_SCHEMA_CHARS = 200_000


@lru_cache(maxsize=64)
def _compiled(schema_name: str, spec_path: str | None
              ) -> tuple[Any, Callable[[Any], Any] | None] | None:
    """(jsonschema-rs validator, fastjsonschema function or None) for one request body schema."""
    spec = load_spec(spec_path)
    if spec is None:
        return None
    components = spec["components"]["schemas"]
    schema = to_json_schema(components[schema_name], components)
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    rust = jsonschema_rs.Draft7Validator(schema, formats=FORMATS, validate_formats=True)
    if len(json.dumps(schema)) > EXPLAIN_MAX_SCHEMA_CHARS:
        return rust, None
    return rust, fastjsonschema.compile(schema, formats=FORMATS, use_default=False)


def json_schema_for(schema_name: str, spec_path: str | None = None) -> dict[str, Any] | None:
    """The converted JSON Schema of one request body (for tests and docs), None without spec."""
    spec = load_spec(spec_path)
    if spec is None:
        return None
    components = spec["components"]["schemas"]
    return to_json_schema(components[schema_name], components)


def validator_for(schema_name: str, spec_path: str | None = None) -> Validator:
    """A callable raising `ApiError` (400) when `body` does not match `schema_name`."""
    compiled = _compiled(schema_name, spec_path)
    if compiled is None:
        from .model_validation import model_validator

        return model_validator(schema_name)

    rust, explain = compiled

    def validate(body: Any) -> None:
        if rust.is_valid(body):
            return
        try:
            if explain is not None:
                explain(body)
        except fastjsonschema.JsonSchemaValueException as exc:
            raise _error_from(exc) from None
        try:
            rust.validate(body)
        except jsonschema_rs.ValidationError as exc:
            raise _rust_error(exc) from None

    return validate


def ensure_valid(schema_name: str, body: Any) -> None:
    """Validate `body`; raise `ApiError` on the first problem."""
    validator_for(schema_name)(body)
