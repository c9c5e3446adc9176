"""The `alpr-watch` entry point: how it ends when a command fails or is interrupted."""

from __future__ import annotations

import pytest

import streams.replay
from detector.cli import main


def test_an_interrupted_command_says_so_without_a_traceback(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(streams.replay, "replay", interrupted)
    (tmp_path / "searches.csv").write_text("search_id,ts,user_id,agency\n")
    assert main(["replay", str(tmp_path), "--out", str(tmp_path / "out")]) == 130
    err = capsys.readouterr().err
    assert "alpr-watch replay: interrupted" in err and "Traceback" not in err


def test_a_user_error_is_one_line_with_status_2(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "out")]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress bar's last state
    assert "alpr-watch replay: error:" in last and "missing.csv" in last and "Traceback" not in last
