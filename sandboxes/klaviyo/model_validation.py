"""Fallback validation with the official `klaviyo-api` package's generated pydantic models.

Used only when the spec file is absent. The generated models are the same schemas as the spec
but silently ignore undeclared fields, so after `model_validate` succeeds we walk the body
against the models' declared field aliases and reject anything undeclared (Klaviyo answers 400
for those).
"""

from __future__ import annotations

import importlib
import re
import types
import typing
from functools import lru_cache
from typing import Any

from .errors import invalid

try:  # the package is a project dependency; keep import errors readable
    from pydantic import BaseModel, ValidationError
except ImportError:  # pragma: no cover
    BaseModel = None  # type: ignore[assignment,misc]
    ValidationError = Exception  # type: ignore[assignment,misc]


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("_v2", "_v2")


@lru_cache(maxsize=64)
def _model(schema_name: str) -> type:
    module = importlib.import_module(f"openapi_client.models.{_snake(schema_name)}")
    return getattr(module, schema_name)


def _model_types(annotation: Any) -> list[type]:
    """BaseModel classes reachable in an annotation (Optional[X], List[X], Union)."""
    if isinstance(annotation, type) and BaseModel is not None and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type] = []
    for arg in typing.get_args(annotation):
        out.extend(_model_types(arg))
    if isinstance(annotation, types.UnionType):
        for arg in annotation.__args__:
            out.extend(_model_types(arg))
    return out


def _check_declared(model: type, value: Any, pointer: str) -> None:
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_declared(model, item, f"{pointer}/{i}")
        return
    if not isinstance(value, dict):
        return
    fields = model.model_fields  # type: ignore[attr-defined]
    if "actual_instance" in fields or "one_of_schemas" in fields:
        return  # oneOf wrapper: the branch was already validated by from_dict
    by_alias = {(f.alias or name): f for name, f in fields.items()}
    for key, item in value.items():
        field = by_alias.get(key)
        if field is None:
            raise invalid(f"'{key}' is not a valid field for this resource.",
                          pointer=f"{pointer}/{key}")
        for sub in _model_types(field.annotation):
            _check_declared(sub, item, f"{pointer}/{key}")
            break


def model_validator(schema_name: str) -> typing.Callable[[Any], None]:
    """Validate a body with the generated model `schema_name` plus the undeclared-field walk."""
    model = _model(schema_name)

    def validate(body: Any) -> None:
        if not isinstance(body, dict):
            raise invalid("Request body must be a JSON object.", pointer="/")
        try:
            model.model_validate(body)  # type: ignore[attr-defined]
        except ValidationError as exc:
            errors = exc.errors()
            loc = "/".join(str(p) for p in errors[0]["loc"]) if errors else ""
            message = str(errors[0]["msg"]) if errors else "Invalid input"
            raise invalid(f"Invalid input at /{loc}: {message}.", pointer="/" + loc) from None
        _check_declared(model, body, "")

    return validate
