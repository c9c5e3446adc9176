"""Replays feed batches oldest first whatever order the file lists its searches in.

Flock's audit exports list the newest search first; the detector's features are causal
across batches. A newest-first export must therefore score exactly as the same rows in
ascending order, with the model learnt from its earliest searches, held in memory or
through a spill that is gone afterwards, with rejects still naming the file's own lines.
"""

import csv
import json
import logging
import tempfile
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import streams.order
from detector.engine import Detector
from detector.features import TARGET_FEATURES, USER_FEATURES
from detector.policy import load_policy
from detector.reference import load_reference
from detector.validate import RejectCounter
from streams.files import CHUNK_ROWS
from streams.order import goes_back_in_time, oldest_first
from streams.replay import replay
from streams.sources import open_searches
from synthetic import exports, generate

CHUNK = 1_000  # the export below spans five chunks
HISTORY = 2_500  # and the model's history ends inside the third


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """Reference files and a synthetic Network Audit export, newest first as Flock writes it
    (with the repeated rows Flock prints), beside the same rows oldest first."""
    root = tmp_path_factory.mktemp("order")
    data = generate(days=14, seed=7, searches=8_000)
    for name in ("sites", "vehicles", "relations", "agencies", "users"):
        exports.write_csv(getattr(data, name), root / f"{name}.csv")
    audit = exports.network_audit(data)
    assert audit[" Search Time"].iloc[0] != audit[" Search Time"].iloc[-1]
    exports.write_csv(audit, root / "newest_first.csv")
    exports.write_csv(audit.iloc[::-1], root / "oldest_first.csv")
    return root


@pytest.fixture
def small_batches(small_replay):
    small_replay(CHUNK, HISTORY, 2_000)


@pytest.fixture
def spill_root(monkeypatch, tmp_path) -> Path:
    """The temporary directory the spill goes under, empty to start with; a newest-first
    file is spilled there however small."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    monkeypatch.setattr(streams.order, "HOLD_BYTES", 0)
    return root


def results(out: Path) -> tuple[pd.DataFrame, list[dict]]:
    """``scores.csv`` by search id and the alerts by id: their order in the files is not the point."""
    scores = pd.read_csv(out / "scores.csv", dtype=str, keep_default_na=False).sort_values("search_id", ignore_index=True)
    alerts = sorted((json.loads(line) for line in (out / "alerts.jsonl").read_text().splitlines()),
                    key=lambda a: a["alert_id"])
    return scores, alerts


def test_the_same_searches_score_alike_whatever_order_and_form_the_file_lists_them_in(world, small_batches, tmp_path):
    """By time, searches of one instant by search id, as a stream takes them: a shuffled
    Parquet file, a JSON Lines file and a CSV file listed in that order give the same
    scores and alerts (the reference files are the Network Audit's)."""
    searches = generate(days=14, seed=7, searches=8_000).searches
    searches = searches.sort_values("ts", ignore_index=True)
    searches.loc[1::40, "ts"] = searches["ts"].shift(1)[1::40]  # instants of two searches, in no id order
    assert searches["ts"].duplicated().sum() >= 150
    forms = {"sorted": searches.sort_values(["ts", "search_id"]), "shuffled": searches.sample(frac=1, random_state=1)}
    for name in ("sorted", "shuffled", "jsonl"):
        (tmp_path / name).mkdir()
    forms["sorted"].to_csv(tmp_path / "sorted" / "searches.csv", index=False)
    forms["shuffled"].to_parquet(tmp_path / "shuffled" / "searches.parquet", index=False)
    forms["shuffled"].to_json(tmp_path / "jsonl" / "searches.jsonl", orient="records", lines=True, date_format="iso",
                              date_unit="ns")
    from streams.files import listed_in_time_order

    assert listed_in_time_order(tmp_path / "sorted") and not listed_in_time_order(tmp_path / "shuffled")
    runs = {name: replay(tmp_path / name, tmp_path / f"{name}-out", reference_dir=world, progress=False)
            for name in ("sorted", "shuffled", "jsonl")}
    scores, alerts = results(tmp_path / "sorted-out")
    assert len(alerts) > 5 and runs["sorted"].scored == len(searches)
    for name in ("shuffled", "jsonl"):
        pd.testing.assert_frame_equal(results(tmp_path / f"{name}-out")[0], scores)
        assert results(tmp_path / f"{name}-out")[1] == alerts


def test_a_newest_first_export_scores_exactly_as_its_rows_oldest_first(world, small_batches, spill_root, caplog, tmp_path):
    caplog.set_level(logging.INFO, logger="streams.order")
    backwards = replay(world / "newest_first.csv", tmp_path / "newest", reference_dir=world, progress=False)
    assert "lists its newest searches first" in caplog.text
    forwards = replay(world / "oldest_first.csv", tmp_path / "oldest", reference_dir=world, progress=False)
    assert caplog.text.count("lists its newest searches first") == 1, "an ascending file streams straight through"

    scores, alerts = results(tmp_path / "newest")
    pd.testing.assert_frame_equal(scores, results(tmp_path / "oldest")[0])
    assert alerts == results(tmp_path / "oldest")[1]
    assert len(alerts) > 5 and (scores["score"].astype(float) > 0).sum() > 100
    assert (backwards.scored, backwards.duplicates, backwards.model) == (forwards.scored, forwards.duplicates, forwards.model)
    assert backwards.duplicates > 0 and f"its earliest {HISTORY:,} searches" in backwards.model
    assert list(spill_root.iterdir()) == [], "the spill is removed"


@pytest.mark.parametrize("hold_bytes", [streams.order.HOLD_BYTES, 0], ids=["held in memory", "spilled"])
def test_a_newest_first_export_is_fed_as_the_batches_of_its_rows_oldest_first(world, hold_bytes, monkeypatch):
    monkeypatch.setattr(streams.order, "HOLD_BYTES", hold_bytes)
    backwards = list(open_searches(world / "newest_first.csv", RejectCounter(), chunk_rows=CHUNK))
    forwards = list(open_searches(world / "oldest_first.csv", RejectCounter(), chunk_rows=CHUNK))
    assert [len(b) for b in backwards] == [len(b) for b in forwards] and len(forwards) == 5
    for fed, listed in zip(backwards, forwards):
        pd.testing.assert_frame_equal(fed, listed)


def test_a_file_held_in_memory_is_fed_as_its_spill_would_be(world, tmp_path, monkeypatch):
    rows = list(csv.reader((world / "newest_first.csv").open(newline="", encoding="utf-8")))
    header, body = rows[0], rows[1:]
    for bad in (150, 1_700, 1_701, 4_000):  # batches of uneven sizes, cut anywhere by the chunks fed back
        body[bad][header.index(" Search Time")] = "yesterday"
    path = tmp_path / "export.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *body])

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "none"))  # nothing is written to disk
    held = list(open_searches(path, RejectCounter(), chunk_rows=700))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(streams.order, "HOLD_BYTES", 0)
    spilled = list(open_searches(path, RejectCounter(), chunk_rows=700))
    assert [len(b) for b in held] == [len(b) for b in spilled] and len(held) > 5
    for a, b in zip(held, spilled):
        pd.testing.assert_frame_equal(a, b)


def test_a_file_beyond_the_memory_budget_is_spilled(world, spill_root, monkeypatch):
    monkeypatch.setattr(streams.order, "HOLD_BYTES", 1 << 20)  # about two of these batches
    with closing(open_searches(world / "newest_first.csv", RejectCounter(), chunk_rows=CHUNK)) as batches:
        next(batches)
        spills = list(spill_root.iterdir())
        assert len(spills) == 1 and list(spills[0].iterdir())  # later batches still on disk
    assert list(spill_root.iterdir()) == []


def test_training_on_a_newest_first_export_learns_from_its_earliest_searches(world, small_batches):
    from models.train import fit_model

    reference = load_reference(world)
    policy = load_policy("generic")
    backwards = fit_model(world / "newest_first.csv", reference, policy, limit=HISTORY)
    forwards = fit_model(world / "oldest_first.csv", reference, policy, limit=HISTORY)
    assert backwards.training_range == forwards.training_range
    oldest = min(b["ts"].min() for b in open_searches(world / "oldest_first.csv", RejectCounter()))
    assert backwards.training_range[0] == oldest.isoformat()


def test_rejects_and_duplicates_keep_the_files_own_line_numbers(world, small_batches, tmp_path):
    rows = list(csv.reader((world / "newest_first.csv").open(newline="", encoding="utf-8")))
    header, body = rows[0], rows[1:]
    late = len(body) - 10  # among the oldest searches: read first, fed last
    body[late][header.index(" Search Time")] = "yesterday"
    path = tmp_path / "export.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *body])
    line = 2 + sum(1 + "".join(row).count("\n") for row in body[:late])  # Time Frame cells span two lines

    summary = replay(path, tmp_path / "out", reference_dir=world, retrospective=False, progress=False)
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv", dtype=str, keep_default_na=False)
    assert rejects[["line", "field"]].values.tolist() == [[str(line), "ts"]]
    ids = [row[header.index("ID")] for i, row in enumerate(body) if i != late]
    assert summary.duplicates == len(ids) - len(set(ids)) > 0
    scored = pd.read_csv(tmp_path / "out" / "scores.csv", dtype=str)["search_id"]
    assert set(scored) == set(ids) and len(scored) == summary.scored == len(set(ids))


def batch(hours: list[int]) -> pd.DataFrame:
    ts = pd.Timestamp("2025-12-01", tz="UTC") + pd.to_timedelta(hours, unit="h")
    return pd.DataFrame({"search_id": [f"s{h}" for h in hours], "ts": ts})


def test_the_spill_is_removed_and_the_reading_stopped_on_ctrl_c(spill_root, monkeypatch):
    closed = []
    write = streams.order.feather.write_feather

    def source():
        try:
            for start in range(10_000, 0, -1_000):
                yield batch(list(range(start, start - 1_000, -1)))
        finally:
            closed.append(True)

    def interrupted(frame, path, **kwargs):
        if path.name != "000000.arrow":
            assert len(list(spill_root.iterdir())) == 1, "spilled to the temporary directory"
            raise KeyboardInterrupt
        write(frame, path, **kwargs)

    monkeypatch.setattr(streams.order.feather, "write_feather", interrupted)
    with pytest.raises(KeyboardInterrupt):
        next(oldest_first(source(), 500, "x.csv"))
    assert list(spill_root.iterdir()) == [] and closed == [True]


def test_the_spill_is_removed_when_the_scoring_stops_early(world, spill_root):
    with closing(open_searches(world / "newest_first.csv", RejectCounter(), chunk_rows=CHUNK)) as batches:
        first = next(batches)
        spills = list(spill_root.iterdir())
        assert len(spills) == 1 and sorted(p.name for p in spills[0].iterdir())  # later parts still on disk
        assert first["ts"].is_monotonic_increasing and len(first) == CHUNK
    assert list(spill_root.iterdir()) == []


def canonical(hours: list[int]) -> pd.DataFrame:
    frame = batch(hours)
    frame.insert(2, "user_id", "u1")
    frame.insert(3, "agency", "A")
    return frame


def test_a_canonical_file_in_time_order_streams_straight_through(spill_root, tmp_path):
    for name in ("ascending", "one_late"):
        (tmp_path / name).mkdir()
    canonical(list(range(3000))).to_parquet(tmp_path / "ascending" / "searches.parquet")
    canonical(list(range(1, 3000)) + [0]).to_parquet(tmp_path / "one_late" / "searches.parquet")
    with closing(open_searches(tmp_path / "ascending", RejectCounter(), chunk_rows=CHUNK)) as batches:
        next(batches)
        assert list(spill_root.iterdir()) == [], "fed while read"
    with closing(open_searches(tmp_path / "one_late", RejectCounter(), chunk_rows=CHUNK)) as batches:
        first = next(batches)
        assert len(list(spill_root.iterdir())) == 1, "read whole first"
        assert first["ts"].iloc[0] == pd.Timestamp("2025-12-01", tz="UTC")


def test_the_scan_of_a_files_times_reads_each_canonical_form(tmp_path):
    from streams.files import listed_in_time_order

    ascending = canonical(list(range(50)))
    ascending["ts"] = ascending["ts"].dt.tz_convert("Europe/Paris").map(lambda t: t.isoformat())  # offsets
    ascending.loc[7, "ts"] = "yesterday"  # rejected when read: no time to judge
    ascending.to_csv(tmp_path / "ascending.csv", index=False)
    assert listed_in_time_order(tmp_path / "ascending.csv")
    swapped = ascending.copy()
    swapped.loc[[3, 4], "ts"] = swapped.loc[[4, 3], "ts"].to_numpy()
    swapped.to_csv(tmp_path / "swapped.csv", index=False)
    assert not listed_in_time_order(tmp_path / "swapped.csv")
    canonical(list(range(50))).to_parquet(tmp_path / "typed.parquet")
    assert listed_in_time_order(tmp_path / "typed.parquet")
    canonical(list(range(50))[::-1]).to_parquet(tmp_path / "backwards.parquet")
    assert not listed_in_time_order(tmp_path / "backwards.parquet")
    canonical(list(range(50))).to_json(tmp_path / "searches.jsonl", orient="records", lines=True, date_format="iso")
    assert not listed_in_time_order(tmp_path / "searches.jsonl"), "JSON Lines are read whole rather than parsed twice"
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    assert not listed_in_time_order(tmp_path / "broken.parquet")


def test_newest_first_is_judged_by_rank_not_by_steps():
    rng = np.random.default_rng(0)
    days = np.repeat(np.arange(30, 0, -1), 50) * 24 + rng.integers(0, 24, 1500)  # days newest first, hours shuffled
    assert goes_back_in_time(batch(list(days))["ts"])
    assert not goes_back_in_time(batch(list(days[::-1]))["ts"])
    assert not goes_back_in_time(batch(list(rng.permutation(1500)))["ts"])
    assert not goes_back_in_time(batch([5, 5, 5])["ts"]) and not goes_back_in_time(batch([])["ts"])


def test_concatenated_exports_in_the_wrong_order_are_fed_in_time_order(caplog):
    january, february = list(range(744, 0, -1)), list(range(1416, 744, -1))  # each newest first

    def chunks(hours):
        return (batch(hours[i:i + 100]) for i in range(0, len(hours), 100))

    caplog.set_level(logging.INFO, logger="streams.order")
    mixed = list(oldest_first(chunks(january + february), 100, "both.csv"))
    assert "both.csv does not list its searches in time order" in caplog.text
    caplog.clear()
    backwards = list(oldest_first(chunks(february + january), 100, "both.csv"))
    assert "both.csv lists its newest searches first" in caplog.text
    assert [len(b) for b in mixed] == [100] * 14 + [16]
    for a, b in zip(mixed, backwards):
        pd.testing.assert_frame_equal(a, b)
    assert pd.concat(mixed)["ts"].is_monotonic_increasing


def test_a_file_whose_incidents_come_last_is_fed_in_time_order(tmp_path):
    """A log with some searches appended after the rest (a generator's incidents, a late
    export) is neither ascending nor newest first: each search still comes after those before it."""
    hours = list(range(0, 3000, 2)) + list(range(1, 3000, 40))
    frame = canonical(hours)
    frame.to_csv(tmp_path / "searches.csv", index=False)
    fed = list(open_searches(tmp_path, RejectCounter(), chunk_rows=500))
    assert [len(b) for b in fed] == [500, 500, 500, 75]
    ts = pd.concat([b["ts"] for b in fed], ignore_index=True)
    assert ts.is_monotonic_increasing and len(ts) == len(hours)
    ascending = tmp_path / "sorted"
    ascending.mkdir()
    frame.sort_values("ts").to_csv(ascending / "searches.csv", index=False)
    streamed = pd.concat(open_searches(ascending, RejectCounter(), chunk_rows=500), ignore_index=True)
    assert streamed["search_id"].tolist() == pd.concat(fed, ignore_index=True)["search_id"].tolist()


def test_searches_of_one_instant_are_fed_together_by_search_id_as_a_stream_takes_them():
    def listed(*batches):
        return (pd.DataFrame({"search_id": ids, "ts": pd.to_datetime(hours, unit="h", utc=True)})
                for ids, hours in batches)

    fed = list(oldest_first(listed((["a", "d", "c", "b"], [1, 2, 3, 3]), (["f", "a2", "e"], [3, 3, 4]), (["g"], [4])),
                            4, "x.csv", listed_in_order=True))
    assert [b["search_id"].tolist() for b in fed] == [["a", "d"], ["a2", "b", "c", "f"], ["e", "g"]]
    held = list(oldest_first(listed((["g"], [4]), (["f", "a2", "e"], [3, 3, 4]), (["a", "d", "c", "b"], [1, 2, 3, 3])),
                             4, "x.csv"))
    assert [b["search_id"].tolist() for b in held] == [["a", "d", "a2", "b", "c", "f"], ["e", "g"]], \
        "in batches of about 4, an instant never cut"


EUGENE = ("flock_portal_eugene_or_2025-06_12.csv", "Eugene OR PD")
SAN_MATEO = ("san_mateo_ca_own_search_audit_2025-12.csv", "San Mateo CA PD")


def features(path: Path, agency: str, chunk_rows: int = 500) -> pd.DataFrame:
    """Every search's causal features, by search id: what the detector knew of its past."""
    detector = Detector(load_reference(None), load_policy("generic"))
    with closing(open_searches(path, RejectCounter(), agency=agency, chunk_rows=chunk_rows)) as batches:
        frames = [detector.features(b)[["search_id", *USER_FEATURES, *TARGET_FEATURES]] for b in batches]
    return pd.concat(frames).sort_values("search_id", ignore_index=True)


def test_a_real_portal_download_is_featured_the_same_listed_either_way(shared, spill_root, caplog, tmp_path):
    """The released portal downloads list their oldest search first, mostly; listed newest
    first, every search is described by the same past. (Without reference files nothing in
    them scores above 0, so the features are compared.)"""
    name, agency = EUGENE
    sample = shared / "samples" / name
    with sample.open(newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    reversed_copy = tmp_path / name
    with reversed_copy.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows[::-1]])

    caplog.set_level(logging.INFO, logger="streams.order")
    as_released = features(sample, agency)
    assert "newest searches first" not in caplog.text
    assert len(as_released) == len(rows) and as_released["user_prior"].max() > 100
    pd.testing.assert_frame_equal(features(reversed_copy, agency), as_released)
    assert "lists its newest searches first" in caplog.text and list(spill_root.iterdir()) == []


def test_a_jumbled_real_sample_is_featured_the_same_whatever_its_batches(shared, caplog):
    """San Mateo's audit, parsed from a printed PDF, lists blocks of days out of order:
    neither order holds, so it is sorted by time, and read in one batch or in many each
    search is described by the same past."""
    name, agency = SAN_MATEO
    caplog.set_level(logging.INFO, logger="streams.order")
    whole = features(shared / "samples" / name, agency, chunk_rows=CHUNK_ROWS)
    assert len(whole) == 4_103 and "does not list its searches in time order" in caplog.text
    pd.testing.assert_frame_equal(features(shared / "samples" / name, agency), whole)
