"""Contract: the sandbox accepts the spec's own example request bodies and rejects mutations.

The spec (revision 2026-07-15) carries no whole-body examples for these operations; it carries
`example` values on the properties. Each example body below is assembled only from those:
every required property plus every property that has (or contains) a spec example, the first
`enum` value or `oneOf` branch otherwise. Ids in the examples (`Y6nRLr`, `VRgFBd`,
`01GDDKASAP8TKDDA2GRZDSVP4H`) are swapped for ids that exist in the sandbox account.
Mutations: a required member dropped, an undeclared attribute added, a member of the wrong type.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from sandboxes.klaviyo.spec import SUPPORTED, load_spec
from sandboxes.klaviyo.validation import validator_for

from .conftest import Api, error_of

SPEC = load_spec()
pytestmark = pytest.mark.skipif(SPEC is None, reason="Klaviyo spec (stable.json) not present")
WRITE_OPS = [(op, method, path, schema) for op, method, path, schema in SUPPORTED if schema]
OP_IDS = [o[0] for o in WRITE_OPS]
#: Operations whose schema example breaks a rule the spec states in prose, and how to fix it:
#: a deletion job takes exactly one identifier ("If multiple identifiers are provided, we will
#: return an error"), the generated example fills id, email and phone_number.
PROSE_FIXES = {
    "request_profile_deletion": lambda body: body["data"]["attributes"]["profile"]["data"]
    .update(attributes={"email": "gone@shop.test"}, id=None),
}
EXAMPLE_IDS = ("Y6nRLr", "VRgFBd")
EXAMPLE_PROFILE = "01GDDKASAP8TKDDA2GRZDSVP4H"


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    assert SPEC is not None
    while "$ref" in node:
        node = SPEC["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _has_example(node: dict[str, Any], depth: int = 0) -> bool:
    node = _deref(node)
    if depth > 12:
        return False
    if "example" in node:
        return True
    if node.get("type") == "object" and "properties" in node:
        return any(_has_example(s, depth + 1) for s in node["properties"].values())
    if node.get("type") == "array":
        return _has_example(node.get("items", {}), depth + 1)
    return False


def spec_example(node: dict[str, Any], depth: int = 0) -> Any:
    """A value built from the spec's own `example`s for this schema node."""
    node = _deref(node)
    if "example" in node:
        return copy.deepcopy(node["example"])
    if "enum" in node:
        return node["enum"][0]
    if "oneOf" in node:
        return spec_example(node["oneOf"][0], depth + 1)
    kind = node.get("type")
    if kind == "object" and "properties" in node:
        required = set(node.get("required", []))
        return {name: spec_example(sub, depth + 1) for name, sub in node["properties"].items()
                if name in required or _has_example(sub, depth)}
    if kind == "array":
        return [spec_example(node.get("items", {}), depth + 1)]
    return {"string": "x", "integer": 1, "number": 1.5, "boolean": False, "object": {}}.get(
        str(kind), "x")


def _request_schema(path: str, method: str) -> dict[str, Any]:
    assert SPEC is not None
    content = SPEC["paths"][path][method.lower()]["requestBody"]["content"]
    return dict(content["application/vnd.api+json"]["schema"])


def _example_body(path: str, method: str) -> Any:
    assert SPEC is not None
    content = SPEC["paths"][path][method.lower()]["requestBody"]["content"]
    media = content["application/vnd.api+json"]
    if "example" in media:  # whole-body example, if a later revision adds one
        return copy.deepcopy(media["example"])
    return spec_example(_request_schema(path, method))


def _swap_ids(body: Any, list_id: str, profile_id: str) -> Any:
    text = json.dumps(body)
    for example in EXAMPLE_IDS:
        text = text.replace(f'"{example}"', f'"{list_id}"')
    text = text.replace(f'"{EXAMPLE_PROFILE}"', f'"{profile_id}"')
    member = json.dumps({"type": "profile", "id": profile_id})
    text = text.replace('{"type": "profile", "id": "x"}', member)
    return json.loads(text)


def _setup(api: Api) -> tuple[str, str]:
    list_id = api.sandbox.admin.create_list(api.account_id, "Newsletter", list_id="Y6nRLr")
    body = {"data": {"type": "profile", "attributes": {"email": "setup@shop.test"}}}
    r = api.call("POST", "/api/profile-import", body)
    assert r.status_code == 201, r.text
    return list_id, r.json()["data"]["id"]


def _url(path: str, list_id: str, profile_id: str) -> str:
    return path.replace("/lists/{id}", f"/lists/{list_id}").replace("/profiles/{id}",
                                                                     f"/profiles/{profile_id}")


def _target(body: dict[str, Any]) -> dict[str, Any]:
    data = body["data"]
    return data[0] if isinstance(data, list) else data


def _mutations(body: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    out = []
    dropped = copy.deepcopy(body)
    del _target(dropped)["type"]
    out.append(("drop required", dropped, "/type"))
    extra = copy.deepcopy(body)
    target = _target(extra)
    holder = target["attributes"] if isinstance(target.get("attributes"), dict) else target
    holder["not_a_klaviyo_field"] = "x"
    out.append(("undeclared attribute", extra, "/not_a_klaviyo_field"))
    wrong = copy.deepcopy(body)
    target = _target(wrong)
    if isinstance(target.get("attributes"), dict):
        target["attributes"] = ["not", "an", "object"]
        out.append(("wrong type", wrong, "/attributes"))
    else:
        target["id"] = 12345
        out.append(("wrong type", wrong, "/id"))
    return out


@pytest.mark.parametrize(("op", "method", "path", "schema"), WRITE_OPS, ids=OP_IDS)
def test_spec_example_accepted(api: Api, op: str, method: str, path: str, schema: str) -> None:
    list_id, profile_id = _setup(api)
    body = _swap_ids(_example_body(path, method), list_id, profile_id)
    if op in PROSE_FIXES:
        PROSE_FIXES[op](body)
    r = api.call(method, _url(path, list_id, profile_id), body)
    assert r.status_code < 300, (op, r.status_code, r.text[:500])


@pytest.mark.parametrize(("op", "method", "path", "schema"), WRITE_OPS, ids=OP_IDS)
def test_mutated_examples_rejected(api: Api, op: str, method: str, path: str,
                                   schema: str) -> None:
    list_id, profile_id = _setup(api)
    body = _swap_ids(_example_body(path, method), list_id, profile_id)
    for name, mutated, suffix in _mutations(body):
        r = api.call(method, _url(path, list_id, profile_id), mutated)
        assert r.status_code == 400, (op, name, r.text[:300])
        err = error_of(r)
        assert err["code"] == "invalid", (op, name)
        assert err["source"]["pointer"].endswith(suffix), (op, name, err["source"])


def test_nested_undeclared_field_rejected(api: Api) -> None:
    body = _example_body("/api/profile-import", "POST")
    body["data"]["attributes"]["location"]["planet"] = "Mars"
    r = api.call("POST", "/api/profile-import", body)
    assert r.status_code == 400
    assert error_of(r)["source"]["pointer"] == "/data/attributes/location/planet"


@pytest.mark.parametrize("schema", [s for *_, s in WRITE_OPS])
def test_fallback_models_agree_with_spec_schemas(schema: str) -> None:
    """Without the spec, the klaviyo-api package's models accept the same examples and reject
    the same undeclared attribute."""
    from sandboxes.klaviyo.errors import ApiError
    from sandboxes.klaviyo.model_validation import model_validator

    path, method = next((p, m) for _, m, p, s in WRITE_OPS if s == schema)
    body = _example_body(path, method)
    validator_for(schema)(body)
    model_validator(schema)(body)
    for _name, mutated, suffix in _mutations(body):
        for validate in (validator_for(schema), model_validator(schema)):
            with pytest.raises(ApiError) as caught:
                validate(mutated)
            assert (caught.value.pointer or "").endswith(suffix), (schema, caught.value.pointer)


@pytest.mark.parametrize(("op", "method", "path", "schema"), WRITE_OPS, ids=OP_IDS)
def test_fast_check_and_explainer_agree(op: str, method: str, path: str, schema: str) -> None:
    """The Rust check that decides and the Python validator that explains a rejection give the
    same verdict on the spec's example and on each mutation of it (a body the Rust check let
    through would never be explained, so they must not drift apart)."""
    import fastjsonschema

    from sandboxes.klaviyo.validation import _compiled

    compiled = _compiled(schema, None)
    assert compiled is not None
    rust, explain = compiled
    body = _example_body(path, method)
    if explain is None:  # too large to compile in Python: its rejections are the Rust check's
        assert rust.is_valid(body)
        assert not any(rust.is_valid(mutated) for _, mutated, _ in _mutations(body))
        return
    assert rust.is_valid(body)
    explain(body)
    bad_time = copy.deepcopy(body)
    for name, mutated, _suffix in _mutations(body):
        assert not rust.is_valid(mutated), (op, name)
        with pytest.raises(fastjsonschema.JsonSchemaValueException):
            explain(mutated)
    if op in ("create_event", "bulk_create_events"):  # the date-time format is checked by both
        text = json.dumps(bad_time).replace('"2022-11-08T00:00:00+00:00"', '"yesterday"')
        assert "yesterday" in text, "the spec's example event lost its time"
        mutated = json.loads(text)
        assert not rust.is_valid(mutated)
        with pytest.raises(fastjsonschema.JsonSchemaValueException):
            explain(mutated)
