"""Klaviyo's own request schemas, for checking what the client sends (tests only).

Two independent checks, written here rather than borrowed from the sandbox so that the stand-in
and the client cannot share a mistake:
- `spec_problems`: Klaviyo's OpenAPI file (`<repo>/../shared/klaviyo/stable.json`, or
  `$KLAVIYO_SPEC_PATH`; `spec()` is None when absent). The request schema is found from the
  operation's own `requestBody` and turned into strict JSON Schema: `$ref`s inlined,
  `additionalProperties: false` on every object that declares properties (Klaviyo answers 400
  for undeclared fields though the schemas do not say so), `nullable` honoured on typed schemas
  and ignored beside a `$ref` (OpenAPI 3.0), `oneOf` read as `anyOf` (some branches overlap).
  Compiled with jsonschema-rs, date-time formats checked.
- `model_problems`: the official `klaviyo-api` package's generated pydantic models, which work
  on any machine; they ignore undeclared fields, so the body is also walked against each
  model's declared aliases.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import types
import typing
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from pydantic import BaseModel, ValidationError

ROOT = Path(__file__).resolve().parents[2]
_DROP = {"description", "example", "examples", "default", "readOnly", "writeOnly",
         "discriminator", "nullable", "title", "deprecated", "externalDocs", "xml"}


def spec_path() -> Path:
    env = os.environ.get("KLAVIYO_SPEC_PATH")
    return Path(env) if env else ROOT.parent / "shared" / "klaviyo" / "stable.json"


@lru_cache(maxsize=1)
def spec() -> dict[str, Any] | None:
    path = spec_path()
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as fh:
        return dict(json.load(fh))


def spec_operation(method: str, template: str) -> dict[str, Any] | None:
    """The spec's operation object for (method, path template), None if it has none."""
    document = spec()
    assert document is not None
    return (document["paths"].get(template) or {}).get(method.lower())


def request_schema_name(node: dict[str, Any]) -> str | None:
    """`components.schemas` name of an operation's JSON:API request body, None if bodiless."""
    content = (node.get("requestBody") or {}).get("content") or {}
    for media in ("application/vnd.api+json", "application/json"):
        ref = ((content.get(media) or {}).get("schema") or {}).get("$ref", "")
        if ref:
            return str(ref.rsplit("/", 1)[-1])
    return None


def query_parameters(node: dict[str, Any]) -> set[str]:
    return {str(p["name"]) for p in node.get("parameters", []) if p.get("in") == "query"}


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def to_json_schema(node: Any, components: dict[str, Any], depth: int = 0) -> Any:
    """One OpenAPI 3.0 schema node as strict JSON Schema (see module docstring)."""
    if depth > 40:
        return {}
    if isinstance(node, list):
        return [to_json_schema(item, components, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _referenced(node["$ref"], components, depth)
    out = {_json_schema_name(key): _converted(key, value, components, depth)
           for key, value in node.items() if key not in _DROP and not key.startswith("x-")}
    if node.get("nullable") is True:
        _nullable(out)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _referenced(ref: str, components: dict[str, Any], depth: int) -> Any:
    """A `$ref` inlined; its siblings (`nullable` too) are ignored, as OpenAPI 3.0 says."""
    return to_json_schema(components[ref.rsplit("/", 1)[-1]], components, depth + 1)


def _json_schema_name(key: str) -> str:
    return "anyOf" if key == "oneOf" else key  # some oneOf branches overlap


def _converted(key: str, value: Any, components: dict[str, Any], depth: int) -> Any:
    """One keyword's value: sub-schemas converted, anything else as it is."""
    if key == "properties":
        return {name: to_json_schema(sub, components, depth + 1) for name, sub in value.items()}
    if key in ("items", "additionalProperties", "not", "oneOf", "anyOf", "allOf"):
        return to_json_schema(value, components, depth + 1)
    return value


def _nullable(out: dict[str, Any]) -> None:
    """`nullable: true` on a typed schema: null joins its type and its enum."""
    if "type" in out:
        out["type"] = [out["type"], "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]


@lru_cache(maxsize=64)
def _spec_validator(schema_name: str) -> Any:
    document = spec()
    assert document is not None
    components = document["components"]["schemas"]
    schema = to_json_schema(components[schema_name], components)
    return jsonschema_rs.Draft7Validator(
        schema, formats={"date-time": _is_datetime, "date": _is_date}, validate_formats=True)


def spec_problems(schema_name: str, body: Any) -> list[str]:
    """What is wrong with `body` against the spec's `schema_name` ([] when valid)."""
    return [f"/{'/'.join(map(str, error.instance_path))}: {error.message}"
            for error in _spec_validator(schema_name).iter_errors(body)]


# -- the official package's generated models --------------------------------------------------


def _model(schema_name: str) -> type[BaseModel]:
    module_name = re.sub(r"(?<!^)(?=[A-Z])", "_", schema_name).lower()
    module = importlib.import_module(f"openapi_client.models.{module_name}")
    return getattr(module, schema_name)  # type: ignore[no-any-return]


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found.extend(_model_types(arg))
    if isinstance(annotation, types.UnionType):
        for arg in annotation.__args__:
            found.extend(_model_types(arg))
    return found


def _undeclared(model: type[BaseModel], value: Any, pointer: str) -> list[str]:
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in _undeclared(model, item,
                                                                       f"{pointer}/{i}")]
    fields = model.model_fields
    if not isinstance(value, dict) or "actual_instance" in fields or "one_of_schemas" in fields:
        return []  # a oneOf wrapper's branch was validated by model_validate
    by_alias = {(info.alias or name): info for name, info in fields.items()}
    problems = []
    for key, item in value.items():
        info = by_alias.get(key)
        if info is None:
            problems.append(f"{pointer}/{key}: not a field of {model.__name__}")
            continue
        for sub in _model_types(info.annotation)[:1]:
            problems += _undeclared(sub, item, f"{pointer}/{key}")
    return problems


def model_problems(schema_name: str, body: Any) -> list[str]:
    """What is wrong with `body` against the klaviyo-api model `schema_name` ([] when valid)."""
    model = _model(schema_name)
    try:
        model.model_validate(body)
    except ValidationError as exc:
        return [f"/{'/'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    return _undeclared(model, body, "")
