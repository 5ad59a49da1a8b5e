"""`manage.py doctor` run as support runs it: a real process, its exit code and its output,
against the real Klaviyo sandbox (the key's scopes are re-probed live)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection as db_connection

from integrations.klaviyo.messages import KEY_HOWTO
from integrations.klaviyo.models import KlaviyoConnection, SyncAttempt
from integrations.klaviyo.operations import SCOPE_PROBES
from integrations.klaviyo.scopes import ALL_REQUIRED
from notifyme.catalog.services import variant_update_stock
from notifyme.restocks.services import detection_of
from notifyme.support import catalogue
from notifyme.sync import engine
from notifyme.sync.flow_checks import flow_check_job
from tests.factories import Connected, klaviyo_connect, shop_make, subscription_make, variant_make
from tests.fixtures.sandbox import SandboxHandle
from tests.restocks.conftest import drain as fanout_drain

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = "doc-shop.myshopify.com"
pytestmark = pytest.mark.django_db(transaction=True)  # the command is another process


def doctor(*args: str, sandbox: SandboxHandle | None = None) -> subprocess.CompletedProcess[str]:
    db = db_connection.settings_dict
    env = {**os.environ,
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "PYTHONPATH": str(ROOT)}
    if sandbox is not None:
        env["KLAVIYO_API_URL"] = sandbox.url
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "manage.py", "doctor", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120, check=False)


@pytest.fixture
def connected(klaviyo_sandbox: SandboxHandle) -> Connected:
    return klaviyo_connect(shop_make(DOMAIN), klaviyo_sandbox)


def _snapshot(connected: Connected) -> tuple[int, Any]:
    row = KlaviyoConnection.objects.get(pk=connected.connection.pk)
    return SyncAttempt.objects.count(), (row.status, row.updated_at, row.scopes_verified)


def test_a_healthy_shop_exits_0_and_the_probe_saves_nothing(
        connected: Connected, klaviyo_sandbox: SandboxHandle) -> None:
    before = _snapshot(connected)
    result = doctor(DOMAIN, sandbox=klaviyo_sandbox)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Shop: {DOMAIN}" in result.stdout and "healthy" in result.stdout
    assert "Probe (live): ok; scopes all required present; list found" in result.stdout
    assert "Problems: none" in result.stdout
    assert connected.key not in result.stdout + result.stderr
    assert connected.connection.key_display in result.stdout
    assert _snapshot(connected) == before
    requests = klaviyo_sandbox.admin.requests(connected.account_id)
    assert any("/api/accounts" in str(r) for r in requests[-len(SCOPE_PROBES) - 3:])


def test_a_key_that_lost_profiles_write_exits_1_naming_it(
        connected: Connected, klaviyo_sandbox: SandboxHandle) -> None:
    klaviyo_sandbox.admin.set_key_scopes(
        connected.key, [s for s in ALL_REQUIRED if s != "profiles:write"])
    before = _snapshot(connected)
    result = doctor(DOMAIN, sandbox=klaviyo_sandbox)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "NEEDS ACTION" in result.stdout
    assert "scopes missing profiles:write" in result.stdout
    assert "[ACTION] Klaviyo key lacks a permission: live probe: profiles:write missing" \
        in result.stdout
    assert KEY_HOWTO in result.stdout  # the fix: the merchant's own sentence
    assert _snapshot(connected) == before  # still "connected" in the database: nothing saved

    document = json.loads(doctor(DOMAIN, "--json", sandbox=klaviyo_sandbox).stdout)
    assert document["needs_action"] is True
    assert document["probe"]["missing_scopes"] == ["profiles:write"]
    problem = document["problems"][0]
    assert (problem["kind"], problem["severity"]) == ("missing_scopes", "action")
    assert problem["anchor"] == "klaviyo-missing_scopes"
    assert problem["explanation"] == catalogue.entry("klaviyo", "missing_scopes").explanation


def test_an_unknown_shop_exits_2(db: None) -> None:
    for domain in ("nobody.myshopify.com", "not a domain"):
        result = doctor(domain)
        assert result.returncode == 2
        assert "No shop" in result.stderr
    document = json.loads(doctor("nobody.myshopify.com", "--json").stdout)
    assert document == {"shop": "nobody.myshopify.com", "error": "unknown_shop"}


def test_the_domain_is_normalised_and_json_parses(
        connected: Connected, klaviyo_sandbox: SandboxHandle) -> None:
    result = doctor("HTTPS://Doc-Shop.MyShopify.com/", "--json", sandbox=klaviyo_sandbox)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["shop"] == DOMAIN
    assert document["klaviyo"]["status"] == "connected"
    assert document["klaviyo"]["key"] == connected.connection.key_display
    assert document["tokens"]["access_token"] is True and document["install"]["state"] == \
        "installed"
    assert document["problems"] == [] and document["probe"]["ok"] is True
    assert connected.key not in result.stdout


def test_a_halted_shop_lists_its_recent_failures_and_their_fix(
        connected: Connected, klaviyo_sandbox: SandboxHandle) -> None:
    klaviyo_sandbox.admin.revoke_key(connected.key)
    result = doctor(DOMAIN, sandbox=klaviyo_sandbox)
    assert result.returncode == 1
    assert "Probe (live): invalid_key" in result.stdout
    assert catalogue.entry("klaviyo", "invalid_key").fix in result.stdout


def test_the_revision_retirement_warning_90_days_ahead(connected: Connected,
                                                       klaviyo_sandbox: SandboxHandle) -> None:
    quiet = doctor(DOMAIN, "--no-probe", "--today", "2028-04-15")  # 91 days before
    assert quiet.returncode == 0 and "Klaviyo retires API revision" not in quiet.stdout
    warned = doctor(DOMAIN, "--no-probe", "--today", "2028-04-16")  # 90 days before
    assert warned.returncode == 0  # time to plan, not broken yet
    assert "[WARNING] API revision retiring: Klaviyo retires API revision 2026-07-15 on " \
        "2028-07-15 (90 days)" in warned.stdout
    retired = doctor(DOMAIN, "--no-probe", "--today", "2028-07-16")
    assert retired.returncode == 1 and "Klaviyo retired API revision 2026-07-15" in \
        retired.stdout


def test_an_uninstalled_shop_needs_action_and_says_so(db: None) -> None:
    from notifyme.shops.services import shop_uninstall

    shop_uninstall(shop=shop_make(DOMAIN))
    result = doctor(DOMAIN, "--no-probe")
    assert result.returncode == 1
    assert "Install: uninstalled" in result.stdout
    assert "[ACTION] App uninstalled" in result.stdout
    assert catalogue.entry("shop", "uninstalled").fix in result.stdout


def test_events_accepted_without_a_live_flow_exit_1_with_the_fix(
        connected: Connected, klaviyo_sandbox: SandboxHandle) -> None:
    shop = connected.connection.shop
    variant = variant_make(shop)
    subscription_make(shop, variant, email="ada@example.com")
    engine.run_shop(shop.pk, "sync")
    restock = detection_of(variant_update_stock(variant=variant, quantity=5)).restock
    assert restock is not None
    fanout_drain(restock)  # Klaviyo accepted the Back in Stock event
    klaviyo_sandbox.admin.set_flow(connected.account_id, status="manual")
    assert flow_check_job(shop.pk) == "not_live"  # the hourly check, as the sweeper runs it
    result = doctor(DOMAIN, "--no-probe", sandbox=klaviyo_sandbox)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Klaviyo flow: The flow is not live" in result.stdout
    assert "Back in Stock (manual)" in result.stdout
    found = catalogue.entry("klaviyo", "flow_not_live")
    assert f"[ACTION] {found.title}" in result.stdout and found.fix in result.stdout
    document = json.loads(doctor(DOMAIN, "--json", "--no-probe", sandbox=klaviyo_sandbox).stdout)
    assert document["klaviyo"]["flow"]["alarm"] is True

    klaviyo_sandbox.admin.set_flow(connected.account_id, status="live",
                                   flow_id=klaviyo_sandbox.admin.flows(
                                       connected.account_id)[0]["id"])
    assert flow_check_job(shop.pk) == "live"
    assert doctor(DOMAIN, "--no-probe", sandbox=klaviyo_sandbox).returncode == 0
