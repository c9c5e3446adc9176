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


@pytest.mark.parametrize("argv, option", [
    (["stream", "--bootstrap", "k:9092", "--group", "g", "--store", "sqlite://", "--rules-interval", "0"], "--rules-interval"),
    (["stream", "--bootstrap", "k:9092", "--group", "g", "--store", "sqlite://", "--idle-grace", "-1"], "--idle-grace"),
    (["synthesize", "--out", "x", "--searches", "ten"], "--searches"),
    (["dashboard", "--refresh", "-5"], "--refresh"),
])
def test_a_number_out_of_range_is_refused_naming_the_option(argv, option, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and f"argument {option}: expected a number" in err and argv[-1] in err


def test_numbers_in_range_are_taken():
    from detector.cli import build_parser

    args = build_parser().parse_args(["stream", "--bootstrap", "k:9092", "--group", "g", "--store", "sqlite://",
                                      "--rules-interval", "0.5", "--idle-grace", "0", "--max-poll-records", "7"])
    assert (args.rules_interval, args.idle_grace, args.max_poll_records) == (0.5, 0.0, 7)


def test_a_stream_with_a_bad_reviewer_file_stops_before_it_reaches_kafka(tmp_path, capsys):
    weights = tmp_path / "weights.json"
    weights.write_text('{"weights": {"no_such_signal": 1.0}}')
    rules = tmp_path / "rules.yaml"
    rules.write_text("suppressions:\n  - {id: x, reason: r, signals: [repeat_plate]}\n")  # no expiry
    base = ["stream", "--bootstrap", "127.0.0.1:1", "--group", "g", "--store", f"sqlite:///{tmp_path / 's.sqlite'}"]
    assert main(base + ["--weights", str(weights)]) == 2
    assert f"--weights {weights}" in capsys.readouterr().err
    assert main(base + ["--suppressions", str(rules)]) == 2
    err = capsys.readouterr().err
    assert str(rules) in err and "expires" in err
