"""A replay reads its file from the start, while it imports the detector and loads its
reference files, yet reports errors and writes rejects as if it read only afterwards."""

import threading

import pandas as pd
import pytest

from detector.validate import InputError
from streams.files import prefetched
from streams.replay import replay

HEADER = "search_id,ts,user_id,agency\n"


@pytest.fixture
def log_with_a_bad_row(tmp_path):
    rows = [f"s{i},2025-06-18T00:{i // 60:02d}:{i % 60:02d}Z,u{i % 3},Houston TX PD" for i in range(200)]
    rows[17] = "s17,soon,u2,Houston TX PD"
    path = tmp_path / "data" / "searches.csv"
    path.parent.mkdir()
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_reading_starts_before_the_first_batch_is_asked_for():
    started = threading.Event()

    def source():
        started.set()
        yield 1

    batches = prefetched(source())
    assert started.wait(10), "read while the caller does something else"
    assert list(batches) == [1]


def test_closing_a_reader_that_holds_everything_stops_the_reader_it_reads_from():
    """The spill of a newest-first file reads the whole file, in a thread, before handing
    anything on: a replay that fails before its first batch must not wait for that."""
    closed = []

    def endless():
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.append("source")

    def hold_everything(batches):
        try:
            yield sum(batches)  # never done: the source never ends
        finally:
            closed.append("holder")

    outer = prefetched(hold_everything(prefetched(endless())))
    closing = threading.Thread(target=outer.close)
    closing.start()
    closing.join(30)
    assert not closing.is_alive() and closed == ["source", "holder"]
    assert not [t for t in threading.enumerate() if t.name == "prefetch"]


def test_rejects_found_while_a_replay_starts_are_written_with_the_rest(log_with_a_bad_row, tmp_path):
    summary = replay(log_with_a_bad_row, tmp_path / "out", policy="generic", retrospective=False, progress=False)
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", dtype=str, keep_default_na=False)
    assert rejects[["line", "field"]].values.tolist() == [["19", "ts"]]
    assert (summary.rejected, summary.scored) == (1, 199)


def test_a_bad_policy_is_reported_and_no_rejects_written_whatever_the_file_holds(log_with_a_bad_row, tmp_path):
    with pytest.raises(InputError, match="no such pack or file"):
        replay(log_with_a_bad_row, tmp_path / "out", policy="nowhere", progress=False)
    assert not (tmp_path / "out" / "rejects.csv").exists()
    assert not [t for t in threading.enumerate() if t.name == "prefetch"]


def test_a_missing_file_is_reported_after_the_reference_and_policy(tmp_path):
    (tmp_path / "data").mkdir()
    with pytest.raises(InputError, match="no such pack or file"):
        replay(tmp_path / "data" / "nope.csv", tmp_path / "out", policy="nowhere", progress=False)
    with pytest.raises(InputError, match="nope.csv: no such file or directory"):
        replay(tmp_path / "data" / "nope.csv", tmp_path / "out", policy="generic", progress=False)
