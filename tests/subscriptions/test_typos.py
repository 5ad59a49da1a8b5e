"""Email domain typos (notifyme/subscriptions/typos.py): what is suggested, what is left alone,
and the storefront script (extensions/notifyme-theme/assets/email-hint.js) runs on the same
lists."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from notifyme.subscriptions.typos import (
    COM_TYPOS,
    KNOWN_DOMAINS,
    NET_TYPOS,
    edit_distance,
    email_suggest,
)

HINT_JS = (Path(__file__).resolve().parents[2] / "extensions" / "notifyme-theme" / "assets"
           / "email-hint.js")

SUGGESTED = [
    ("jane@gmial.con", "jane@gmail.com"),  # the example: a swap and a TLD slip
    ("jane@gmail.con", "jane@gmail.com"),
    ("Jane.Doe@GMAIL.CMO", "Jane.Doe@gmail.com"),  # the local part is kept as typed
    ("a@gmail.co", "a@gmail.com"),  # .co is real, but not next to gmail
    ("a@gmail.cm", "a@gmail.com"),
    ("a@gamil.com", "a@gmail.com"),
    ("a@gnail.com", "a@gmail.com"),
    ("a@yaho.com", "a@yahoo.com"),
    ("a@hotmial.com", "a@hotmail.com"),
    ("a@outlok.com", "a@outlook.com"),
    ("a@iclod.com", "a@icloud.com"),
    ("a@aol.co", "a@aol.com"),
    ("a@gmx.con", "a@gmx.com"),
    ("a@yahoo.co.ik", "a@yahoo.co.uk"),
    ("a@acme.con", "a@acme.com"),  # .con is no TLD anywhere
    ("a@comcast.nte", "a@comcast.net"),
    ("a@b@gmial.com", "a@b@gmail.com"),  # the last "@" splits, as the normaliser does
]
LEFT_ALONE = [
    "jane@gmail.com", "a@mail.com", "a@email.com", "a@gmx.de",  # known
    "a@acme.co", "a@startup.io", "a@example.com",  # real domains of their own
    "a@aon.com", "a@zoo.com", "a@wen.de",  # short names: too easy to be wrong
    "a@hotmail.be", "a@yahoo.in", "a@yahoo.ca",  # real country domains of a provider
    "not-an-email", "@gmial.con", "a@localhost", "",
]


@pytest.mark.parametrize(("typed", "meant"), SUGGESTED)
def test_likely_typos_get_a_suggestion(typed: str, meant: str) -> None:
    assert email_suggest(typed) == meant


@pytest.mark.parametrize("typed", LEFT_ALONE)
def test_known_real_or_unclear_domains_get_none(typed: str) -> None:
    assert email_suggest(typed) is None


def test_every_known_domain_is_left_alone() -> None:
    assert [d for d in KNOWN_DOMAINS if email_suggest(f"a@{d}")] == []


@pytest.mark.parametrize(("a", "b", "distance"), [
    ("gmial", "gmail", 1), ("gmail", "gmail", 0), ("", "abc", 3), ("con", "com", 1),
    ("hotmial", "hotmail", 1), ("ca", "abc", 3), ("kitten", "sitting", 3),
])
def test_edit_distance_counts_a_swap_as_one(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance == edit_distance(b, a)


def _js_list(name: str, source: str) -> list[str]:
    found = re.search(rf"const {name} = (\[.*?\]);", source, re.S)
    assert found, name
    return json.loads(found.group(1).replace("'", '"').replace(",\n]", "]"))


def test_the_storefront_script_has_the_same_lists() -> None:
    source = HINT_JS.read_text()
    assert _js_list("DOMAINS", source) == list(KNOWN_DOMAINS)
    assert set(_js_list("COM_TYPOS", source)) == COM_TYPOS
    assert set(_js_list("NET_TYPOS", source)) == NET_TYPOS


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_storefront_script_suggests_what_the_server_suggests() -> None:
    cases = [typed for typed, _ in SUGGESTED] + LEFT_ALONE
    program = (f"globalThis.window = globalThis;\n{HINT_JS.read_text()}\n"
               f"console.log(JSON.stringify({json.dumps(cases)}.map(window.notifymeSuggest)));")
    run = subprocess.run(["node", "-e", program], capture_output=True, text=True,  # noqa: S603,S607
                         timeout=30, check=True)
    assert json.loads(run.stdout) == [email_suggest(typed) or "" for typed in cases]
