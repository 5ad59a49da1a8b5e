"""Only the client writes Klaviyo paths and sends requests (issue 10: it owns every path/body)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The operations table; the rate limiter reads the spec's limits by the same method and path
#: (test_production_requests.py holds the two tables equal).
PATH_TABLES = {"integrations/klaviyo/operations.py", "integrations/klaviyo/ratelimit.py"}
CLIENT = "integrations/klaviyo/client.py"
KLAVIYO_PATH = re.compile(r"""["']/api/[a-z]""")
TRANSPORT = re.compile(r"\._request\b|\b(c|client|KlaviyoClient)\.request\b")


def _production_sources() -> list[Path]:
    found = []
    for top in ("notifyme", "integrations"):
        for path in (ROOT / top).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/sandbox/" not in relative and "/migrations/" not in relative:
                found.append(path)
    return found


def test_no_klaviyo_path_is_written_outside_the_operations_table() -> None:
    offenders = [p.relative_to(ROOT).as_posix() for p in _production_sources()
                 if KLAVIYO_PATH.search(p.read_text(encoding="utf-8"))
                 and p.relative_to(ROOT).as_posix() not in PATH_TABLES]
    assert offenders == []


def test_nothing_outside_the_client_sends_a_raw_request() -> None:
    offenders = [p.relative_to(ROOT).as_posix() for p in _production_sources()
                 if TRANSPORT.search(p.read_text(encoding="utf-8"))
                 and p.relative_to(ROOT).as_posix() != CLIENT]
    assert offenders == []
