"""Every merchant endpoint against hostile input: a 4xx naming the field, never a 500, and
nothing sent to Klaviyo before every input is known to be valid."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from notifyme.shops.models import Shop
from tests.dashboard.conftest import Api
from tests.fixtures.shopify import id_token

pytestmark = pytest.mark.django_db

POST_ENDPOINTS = ["/connect", "/disconnect", "/list", "/retest"]
GET_URLS = ["/app/api/klaviyo", "/app/api/klaviyo/lists", "/app/api/klaviyo/panel",
            "/app/api/restocks"]
# Bodies no endpoint can use: not JSON, not an object, nested past what a parser survives.
NOT_AN_OBJECT = [b"{not json", b"\xff\xfe", b"[1, 2]", b'"pk_x"', b"42", b"null", b"true",
                 b"[" * 5000 + b"]" * 5000, b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}",
                 b'{"a": "\\ud800', b"1" * 5000]
BAD_TEXT = {"nul": "Back\x00in Stock", "lone_high_surrogate": "\ud800", "lone_low": "a\udfffb",
            "control": "bell\x07", "overlong": "x" * 5000}
WRONG_TYPES = [42, 1.5, True, [], {}, ["pk_x"], {"nested": "x"}, [[[[[[[[[[[]]]]]]]]]]]]


@pytest.fixture
def connected(api: Api, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str) -> str:
    assert api.post("/connect", {"private_key": full_key}).status_code == 200
    return full_key


def _sent(klaviyo_sandbox: Any, account: dict[str, Any]) -> int:
    return len(klaviyo_sandbox.admin.requests(account["id"]))


def _error(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()["error"]


@pytest.mark.parametrize("path", POST_ENDPOINTS)
@pytest.mark.parametrize("raw", NOT_AN_OBJECT, ids=range(len(NOT_AN_OBJECT)))
def test_bodies_that_are_not_an_object_are_400(api: Api, connected: str, klaviyo_sandbox: Any,
                                               account: dict[str, Any], path: str,
                                               raw: bytes) -> None:
    before = _sent(klaviyo_sandbox, account)
    error = _error(api.post(path, raw=raw))
    assert error["code"] == "invalid_json" and error["message"]
    assert _sent(klaviyo_sandbox, account) == before


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_a_hundred_thousand_nested_arrays_are_413(api: Api, path: str) -> None:
    raw = b"[" * 100_000 + b"]" * 100_000
    assert _error(api.post(path, raw=raw), 413)["code"] == "too_large"


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_huge_bodies_are_413(api: Api, path: str) -> None:
    body = json.dumps({"private_key": "pk_" + "a" * 100_000, "create_name": "x" * 100_000})
    assert _error(api.post(path, raw=body.encode()), 413)["code"] == "too_large"


@pytest.mark.parametrize(("path", "name", "rest"), [
    ("/connect", "private_key", {}),
    ("/connect", "list_id", {"private_key": "pk_" + "a" * 34}),
    ("/list", "list_id", {}),
    ("/list", "create_name", {}),
])
@pytest.mark.parametrize("kind", list(BAD_TEXT) + [f"type{n}" for n in range(len(WRONG_TYPES))])
def test_every_string_field_refuses_bad_text_and_wrong_types_before_klaviyo(
    api: Api, connected: str, klaviyo_sandbox: Any, account: dict[str, Any],
    path: str, name: str, rest: dict[str, Any], kind: str,
) -> None:
    value = BAD_TEXT[kind] if kind in BAD_TEXT else WRONG_TYPES[int(kind[4:])]
    before = _sent(klaviyo_sandbox, account)
    error = _error(api.post(path, {**rest, name: value}))
    assert list(error["fields"]) == [name]
    assert name in error["message"] or error["message"].startswith("Enter a list name")
    assert _sent(klaviyo_sandbox, account) == before
    assert api.get("").json()["list"]["name"] == "Back in Stock"  # nothing changed


def test_a_list_name_with_nul_creates_nothing_in_klaviyo(
    api: Api, connected: str, klaviyo_sandbox: Any, account: dict[str, Any]
) -> None:
    names_before = [item["name"] for item in klaviyo_sandbox.admin.lists(account["id"])]
    for name in ("Back\x00in Stock", "Restocks \ud83d", "Restocks \udca9"):
        error = _error(api.post("/list", {"create_name": name}))
        assert list(error["fields"]) == ["create_name"]
    assert [item["name"] for item in klaviyo_sandbox.admin.lists(account["id"])] == names_before
    # A real emoji (a surrogate pair in JSON) is fine.
    created = api.post("/list", {"create_name": "Restocks \U0001f4a9"})
    assert created.status_code == 200 and created.json()["list"]["name"] == "Restocks \U0001f4a9"


@pytest.mark.parametrize(("path", "allowed"), [
    ("/connect", "private_key, list_id"), ("/list", "list_id, create_name"),
    ("/disconnect", ""), ("/retest", ""),
])
def test_unknown_fields_are_named(api: Api, connected: str, path: str, allowed: str) -> None:
    error = _error(api.post(path, {"private_key": "pk_x", "list_id": "X", "shop": "evil"}
                                    if path == "/connect" else {"shop": "evil"}))
    assert error["code"] == "unknown_field" and list(error["fields"]) == ["shop"]
    assert allowed in error["message"]


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_a_content_length_that_is_not_a_number_is_400(api: Api, path: str) -> None:
    response = api.client.post(f"/app/api/klaviyo{path}", data=b"{}",
                               content_type="application/json", CONTENT_LENGTH="abc",
                               **api.headers())
    assert _error(response)["code"] == "invalid_request"


def test_endpoints_without_inputs_take_an_empty_body_or_an_empty_object(
    api: Api, connected: str
) -> None:
    assert api.post("/retest", raw=b"").status_code == 200
    assert api.post("/retest", raw=b"{}").status_code == 200
    assert api.post("/disconnect", raw=b" ").status_code == 200


@pytest.mark.parametrize("url", GET_URLS)
def test_get_endpoints_answer_json_405_with_allow(client: Client, demo_shop: Shop,
                                                  url: str) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {id_token(demo_shop.domain)}"}
    for method in ("post", "put", "delete"):
        response = getattr(client, method)(url, **headers)
        error = _error(response, 405)
        assert error["code"] == "method_not_allowed" and response["Allow"] == "GET"


@pytest.mark.parametrize("url", GET_URLS + [f"/app/api/klaviyo{p}" for p in POST_ENDPOINTS])
@pytest.mark.parametrize("authorization", ["Bearer \x00", "Bearer é", "Bearer " + "a." * 5000,
                                           "Basic eDp5", "Bearer"])
def test_hostile_authorization_is_401_json(client: Client, demo_shop: Shop, url: str,
                                           authorization: str) -> None:
    error = _error(client.get(url, HTTP_AUTHORIZATION=authorization), 401)
    assert error["code"] == "invalid_session" and error["reason"]


@pytest.mark.parametrize("url", GET_URLS)
def test_hostile_query_strings_never_500(client: Client, demo_shop: Shop, url: str) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {id_token(demo_shop.domain)}"}
    for query in ("shop=%00", "shop=%ED%A0%80", "shop=" + "a" * 5000, "x=%ff&x=1"):
        response = client.get(f"{url}?{query}", **headers)
        assert 400 <= response.status_code < 500 or response.status_code == 200
