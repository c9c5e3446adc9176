"""`alpr-watch synthesize` through the real entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from detector.cli import main
from synthetic import cli, dataset
from synthetic.scenarios import SCENARIOS


def test_synthesize_writes_the_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "data"
    code = main(["synthesize", "--days", "7", "--seed", "3", "--searches", "4000", "--out", str(out),
                 "--format", "jsonl", "--xlsx"])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"searches.jsonl", "labels.csv", "users.csv", "flock_network_audit.csv", "flock_network_audit.xlsx",
            "flock_portal_san_mateo_ca.csv"} <= names
    printed = capsys.readouterr().out
    assert all(s in printed for s in SCENARIOS)
    assert "searches.jsonl" in printed


def test_too_few_searches_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synthesize", "--searches", "500", "--out", str(tmp_path)]) == 2
    assert "too few" in capsys.readouterr().err


def test_cli_formats_match_the_writer() -> None:
    assert cli.FORMATS == dataset.FORMATS


def test_module_entry_point_reports_user_errors_like_the_installed_command(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "detector.cli", "synthesize", "--searches", "3", "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "alpr-watch synthesize: error:" in done.stderr
    assert "Traceback" not in done.stderr
