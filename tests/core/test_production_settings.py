"""Production configuration: insecure defaults are refused, a real one passes `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k3Jd9-vQ2pLx8ZrT6mWn4YbH1sFgC7eA0uKoRiE5tNwP2jVh9qXyB",
    "ALLOWED_HOSTS": "notifyme.example.com",
    "SHOPIFY_API_KEY": "client-id",
    "SHOPIFY_API_SECRET": "s" * 40,
    "NOTIFYME_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "NOTIFYME_DEV_TOOLS": "0",
    "DATABASE_URL": "sqlite:///:memory:",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # The real settings module, with none of the suite's own environment (DEBUG=1) leaking in.
    clean = {k: v for k, v in os.environ.items()
             if k not in PRODUCTION and k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_a_production_configuration_passes_check_deploy_with_no_warning() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_its_secrets() -> None:
    result = _manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "Production settings need: SECRET_KEY" in result.stderr


def test_production_refuses_the_development_encryption_key() -> None:
    dev_key = "ZGV2LW9ubHktbm90aWZ5bWUtZW5jcnlwdGlvbi1rZXk="
    result = _manage("check", **{**PRODUCTION, "NOTIFYME_ENCRYPTION_KEYS": dev_key})
    assert result.returncode != 0
    assert "Development secrets must not be used" in result.stderr


def test_production_refuses_the_dev_tools() -> None:
    result = _manage("check", **{**PRODUCTION, "NOTIFYME_DEV_TOOLS": "1"})
    assert result.returncode != 0
    assert "NOTIFYME_DEV_TOOLS must be off" in result.stderr


_SHOW = "from django.conf import settings; print(settings.DEBUG, settings.NOTIFYME_DEV_TOOLS)"


def test_without_debug_set_the_settings_are_production() -> None:
    """Forgetting DEBUG must never give a deployment the dev defaults or the dev tools."""
    result = _manage("check")
    assert result.returncode != 0
    assert "Production settings need: SECRET_KEY" in result.stderr
    unset = {k: v for k, v in PRODUCTION.items() if k not in ("DEBUG", "NOTIFYME_DEV_TOOLS")}
    result = _manage("shell", "-v", "0", "-c", _SHOW, **unset)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
    # The dev tools' routes (among them one that mints an ID token for any shop) do not exist.
    resolve = ("from django.urls import Resolver404, resolve\n"
               "for path in ('/dev/admin/token', '/dev/admin/', '/dev/storefront/'):\n"
               "    try:\n        resolve(path); print('mounted', path)\n"
               "    except Resolver404:\n        print('absent')")
    result = _manage("shell", "-v", "0", "-c", resolve, **unset)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["absent"] * 3


def test_debug_1_gives_the_development_defaults() -> None:
    result = _manage("shell", "-v", "0", "-c", _SHOW, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]


def test_the_klaviyo_stand_in_command_starts_with_no_configuration() -> None:
    """Tools start `manage.py klaviyo_sandbox` with no DEBUG; it is never the app itself."""
    result = _manage("klaviyo_sandbox", "--help")
    assert result.returncode == 0, result.stderr
    assert "--port" in result.stdout
