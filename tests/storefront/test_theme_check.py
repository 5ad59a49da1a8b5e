"""Shopify's own linter, theme-check (`@shopify/theme-check-node`), passes the extension.

`make lint` runs it too (`make theme-check`); this test keeps it in the suite and proves the
linter would catch a broken extension, so a green run means something. It runs the real linter
with node (`tools/theme-check/check.js`, pinned by tools/theme-check/package-lock.json and
installed by `make theme-check`, which `make lint` and so `make test` run first): no skip. The
linter runs offline (the Liquid docs bundled in the pinned package).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
TOOL = ROOT / "tools" / "theme-check"
EXTENSION = ROOT / "extensions" / "notifyme-theme"


def _theme_check(root: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (TOOL / "node_modules" / "@shopify" / "theme-check-node").is_dir():
        pytest.fail("theme-check is not installed: run `make theme-check` (make test does)")
    return subprocess.run(  # noqa: S603 (our own script, fixed arguments)
        [node, str(TOOL / "check.js"), str(root)],
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_the_extension_passes_theme_check_with_no_errors() -> None:
    result = _theme_check(EXTENSION)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("theme-check: ") and " 0 errors" in summary, summary
    # It really looked at the block and every locale file.
    assert int(summary.split()[1]) == 1 + len(list((EXTENSION / "locales").glob("*.json")))


def test_theme_check_fails_on_a_broken_extension(tmp_path: Path) -> None:
    broken = tmp_path / "notifyme-theme"
    shutil.copytree(EXTENSION, broken)
    block = broken / "blocks" / "notify-me.liquid"
    block.write_text(block.read_text()
                     .replace("'notifyme.heading' | t", "'notifyme.no_such_key' | t")
                     .replace("t:blocks.notify_me.settings.intro.label",
                              "t:blocks.notify_me.settings.no_such_setting.label"))
    german = broken / "locales" / "de.schema.json"
    data = json.loads(german.read_text())
    del data["blocks"]["notify_me"]["settings"]["heading"]
    german.write_text(json.dumps(data))
    # Over the linter's 10,000 B cap for an app block's JavaScript.
    script = broken / "assets" / "notify-me.js"
    script.write_text(script.read_text() + "//" + "x" * 10_000 + "\n")

    result = _theme_check(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    for check in ("TranslationKeyExists", "ValidSchemaTranslations", "MatchingTranslations",
                  "AssetSizeAppBlockJavaScript"):
        assert f"error {check}:" in result.stdout, (check, result.stdout)
    assert "'notifyme.no_such_key'" in result.stdout
