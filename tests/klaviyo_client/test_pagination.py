"""Collections are followed through `links.next` over real HTTP (the sandbox pages like Klaviyo)."""

from __future__ import annotations

from typing import Any

from integrations.klaviyo.client import KlaviyoClient


def test_every_list_is_read_across_pages(klaviyo_sandbox: Any) -> None:
    account, key = klaviyo_sandbox.new_account("Paging Store")
    names = {f"List {n:02d}" for n in range(25)}
    for name in names:
        klaviyo_sandbox.admin.create_list(account["id"], name)
    client = KlaviyoClient(key)
    assert len(client.get_lists()) < len(names)  # more than one page, or this proves nothing
    assert {item["attributes"]["name"] for item in client.iter_lists()} == names
