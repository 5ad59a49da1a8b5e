"""The settings panel's error box shows what is wrong now: a good connect, a disconnect and a
reconnect settle earlier errors (support still finds them in the call log), and an error
after that shows again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from notifyme.sync import engine
from tests.dashboard.conftest import Api
from tests.factories import subscription_make, variant_make

pytestmark = pytest.mark.django_db


def error_box(api: Api) -> bool:
    """Is the "Last error" / "Earlier error" box on the panel the page re-renders?"""
    panel = api.get("/panel")
    assert panel.status_code == 200
    shown = "data-last-error" in panel.content.decode()
    assert shown == (api.get("").json()["last_error"] is not None)  # the API agrees
    return shown


def a_failed_sync(api: Api, klaviyo_sandbox: Any, account: dict[str, Any], email: str) -> None:
    """Klaviyo refuses the next call (a 400 on a record): a failed call in the call log."""
    subscription_make(api.shop, variant_make(api.shop), email=email)
    klaviyo_sandbox.admin.set_faults(account["id"], next_errors=[400])
    engine.run_shop(api.shop.pk, "sync")


def test_connect_disconnect_and_reconnect_settle_the_error_box(
    api: Api, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str,
    key_without: Callable[..., str],
) -> None:
    assert not error_box(api)
    refused = api.post("/connect", {"private_key": key_without("profiles:write")})
    assert refused.status_code == 422
    assert error_box(api)  # the refused key's failed probe

    assert api.post("/connect", {"private_key": full_key}).status_code == 200
    assert not error_box(api)  # a good connect: gone

    a_failed_sync(api, klaviyo_sandbox, account, "first@example.com")
    assert error_box(api)
    assert api.post("/disconnect").status_code == 200
    assert not error_box(api)  # a disconnect: gone

    assert api.post("/connect", {"private_key": key_without("lists:write")}).status_code == 422
    assert error_box(api)
    assert api.post("/connect", {"private_key": full_key}).status_code == 200
    assert not error_box(api)  # a reconnect: gone

    a_failed_sync(api, klaviyo_sandbox, account, "second@example.com")
    assert error_box(api)  # a new error after that shows again


def test_a_passing_retest_settles_an_earlier_failed_call(
    api: Api, klaviyo_sandbox: Any, account: dict[str, Any], full_key: str,
) -> None:
    assert api.post("/connect", {"private_key": full_key}).status_code == 200
    a_failed_sync(api, klaviyo_sandbox, account, "first@example.com")
    assert error_box(api)
    assert api.post("/retest").status_code == 200
    assert not error_box(api)
