"""The client's `request_profile_deletion` against the sandbox: one identifier per job, the
profile (memberships, consent, events) gone, scope `data-privacy:write` checked; connecting a
key without that optional scope still works and records it missing."""

from __future__ import annotations

import pytest
import requests

from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.errors import KlaviyoScopeError
from integrations.klaviyo.scopes import ALL_REQUIRED, key_verify
from tests.fixtures.sandbox import SandboxHandle


def test_a_deletion_job_deletes_the_profile_it_names(klaviyo_sandbox: SandboxHandle) -> None:
    account, key = klaviyo_sandbox.new_account()
    client = KlaviyoClient(key)
    kept = client.upsert_profile({"email": "keep@example.com"}).data["id"]
    gone = client.upsert_profile({"email": "gone@example.com",
                                  "phone_number": "+14155550123"}).data["id"]
    client.request_profile_deletion(phone="+14155550123")
    profiles = {p["id"] for p in klaviyo_sandbox.admin.profiles(account["id"])}
    assert profiles == {kept}
    client.request_profile_deletion(email="nobody@example.com")  # accepted, deletes nothing
    jobs = klaviyo_sandbox.admin.deletions(account["id"])
    assert [(j["identifier"], j["profile_ids"]) for j in jobs] == [
        ("phone_number", [gone]), ("email", [])]
    assert "gone@example.com" not in str(jobs)  # the sandbox records no identifier value


def test_the_endpoint_wants_one_identifier_and_the_scope(klaviyo_sandbox: SandboxHandle) -> None:
    _, key = klaviyo_sandbox.new_account(scopes=list(ALL_REQUIRED))
    with pytest.raises(KlaviyoScopeError) as refused:
        KlaviyoClient(key).request_profile_deletion(email="a@example.com")
    assert refused.value.missing_scopes == ["data-privacy:write"]
    _, full = klaviyo_sandbox.new_account()
    body = {"data": {"type": "data-privacy-deletion-job", "attributes": {"profile": {"data": {
        "type": "profile", "id": "01ABC", "attributes": {"email": "a@example.com"}}}}}}
    response = requests.post(
        f"{klaviyo_sandbox.url}/api/data-privacy-deletion-jobs", json=body, timeout=5,
        headers={"Authorization": f"Klaviyo-API-Key {full}", "revision": "2026-07-15",
                 "Content-Type": "application/vnd.api+json"})
    assert response.status_code == 400
    with pytest.raises(ValueError):
        KlaviyoClient(full).request_profile_deletion()


def test_a_key_without_the_optional_scope_verifies(klaviyo_sandbox: SandboxHandle) -> None:
    _, key = klaviyo_sandbox.new_account(scopes=list(ALL_REQUIRED))
    verified = key_verify(client=KlaviyoClient(key))
    assert verified.optional == [] and verified.all_scopes == list(ALL_REQUIRED)
