"""`make bench` writes bench/REPORT.md from real runs: the machine, each benchmark's verdict,
its verdict lines and its output (here with the quickest benchmark only)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the repository's own script, fixed arguments
        [sys.executable, "bench/report.py", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=300, check=False)


def test_the_report_holds_the_machine_and_each_benchmarks_figures(tmp_path: Path) -> None:
    output = tmp_path / "REPORT.md"
    done = _report("--only", "bodies", "--output", str(output))
    assert done.returncode == 0, done.stdout + done.stderr
    report = output.read_text()
    assert "- Machine: " in report and " cores, " in report
    assert "Speed reference" in report
    assert "| `bodies` | request bodies build within their ceilings | **PASS** |" in report
    verdicts = report.split("## bodies: PASS", 1)[1].split("<details>", 1)[0]
    assert "ceiling" in verdicts  # the bench's own figure lines, not a placeholder
    assert "10,000-profile import" in report  # its output, kept below


def test_an_unknown_benchmark_is_refused() -> None:
    done = _report("--only", "nonesuch")
    assert done.returncode == 2
    assert "unknown benchmark(s): nonesuch" in done.stderr
