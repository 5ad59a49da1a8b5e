"""Starting the sandbox from the command line, and running it without the spec file."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from sandboxes.klaviyo.spec import FALLBACK, default_spec_path, load_operations, load_spec
from tests.core.test_production_settings import PRODUCTION
from tests.fixtures.sandbox import ROOT, _free_port

FULL = "pk_" + "1a" * 17
LIMITED = "pk_" + "2b" * 17
HEADERS = {"revision": "2026-07-15", "Content-Type": "application/vnd.api+json"}


@contextmanager
def running(cmd: list[str], env: dict[str, str] | None = None) -> Iterator[tuple[str, Path]]:
    port = _free_port()
    log_path = Path(tempfile.mkstemp(suffix=".log")[1])
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own entry points, fixed arguments
            [*cmd, "--port", str(port)], cwd=ROOT, stdout=log, stderr=log,
            env={**os.environ, **(env or {})})
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                if proc.poll() is not None:
                    raise RuntimeError(log_path.read_text())
                try:
                    if requests.get(f"{url}/_sandbox/health", timeout=1).ok:
                        break
                except requests.RequestException:
                    time.sleep(0.1)
            yield url, log_path
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            log_path.unlink(missing_ok=True)


def _call(url: str, method: str, path: str, key: str, body: object = None) -> requests.Response:
    return requests.request(method, f"{url}{path}", json=body, timeout=10,
                            headers={**HEADERS, "Authorization": f"Klaviyo-API-Key {key}"})


def test_the_spec_is_read_from_the_shared_copy_beside_the_repo(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KLAVIYO_SPEC_PATH", raising=False)
    assert default_spec_path() == ROOT.parent / "shared" / "klaviyo" / "stable.json"


def test_fallback_table_matches_spec() -> None:
    spec = load_spec()
    if spec is None:
        pytest.skip("Klaviyo spec (stable.json) not present")
    for op in load_operations(spec):
        scopes, limits = FALLBACK[op.op_id]
        assert (op.scopes, op.limits) == (scopes, limits), op.op_id


def test_module_cli_without_spec_uses_fallbacks() -> None:
    cmd = [sys.executable, "-m", "sandboxes.klaviyo", "--account-name", "CLI Store",
           "--key", f"{FULL}=all", "--key", f"{LIMITED}=lists:read,accounts:read",
           "--no-rate-limits"]
    with running(cmd, {"KLAVIYO_SPEC_PATH": "/nonexistent/stable.json"}) as (url, log):
        r = _call(url, "GET", "/api/accounts", FULL)
        org = r.json()["data"][0]["attributes"]["contact_information"]["organization_name"]
        assert org == "CLI Store"
        r = _call(url, "POST", "/api/profile-import", LIMITED, {})
        assert r.status_code == 403
        assert r.json()["errors"][0]["detail"].endswith("profiles:write")
        bad = {"data": {"type": "profile", "attributes": {"email": "a@shop.test", "nick": "x"}}}
        r = _call(url, "POST", "/api/profile-import", FULL, bad)
        assert r.status_code == 400
        assert r.json()["errors"][0]["source"]["pointer"].endswith("/nick")
        good = {"data": {"type": "profile", "attributes": {"email": "a@shop.test"}}}
        assert _call(url, "POST", "/api/profile-import", FULL, good).status_code == 201
        assert [_call(url, "GET", "/api/accounts", FULL).status_code
                for _ in range(3)] == [200] * 3  # limits off
        text = log.read_text()
        assert FULL not in text
        assert LIMITED not in text
        assert "pk_…1a1a" in text


def test_management_command() -> None:
    cmd = [sys.executable, "manage.py", "klaviyo_sandbox", "--key", f"{FULL}=all",
           "--rate-limit-scale", "0.5"]
    with running(cmd, {"DEBUG": "1"}) as (url, _log):
        r = _call(url, "POST", "/api/profile-import", FULL,
                  {"data": {"type": "profile", "attributes": {"email": "m@shop.test"}}})
        assert r.status_code == 201
        assert r.headers["RateLimit-Limit"] == "375"  # 750/m x 0.5


def test_the_management_command_exists_only_with_the_dev_tools() -> None:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", "klaviyo_sandbox", "--help"], cwd=ROOT,
        env={**clean, **PRODUCTION}, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "Unknown command: 'klaviyo_sandbox'" in result.stderr
