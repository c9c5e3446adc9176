"""Stage 1's input side: messages decoded as the JSON Lines reader reads them, dedup, and features per partition."""

from __future__ import annotations

import json
from collections import namedtuple

import numpy as np
import pandas as pd
import pytest

from detector.engine import Detector
from detector.features import UserSide
from detector.policy import load_policy
from detector.reference import Reference
from detector.validate import RejectCounter, canonicalize
from streams import decode
from streams.files import read_searches
from streams.kafka_io import Topics
from streams.metrics import StreamMetrics
from streams.stages import SearchTask, StageContext, process_searches

Record = namedtuple("Record", "offset timestamp key value")
BASE = {"ts": "2025-10-01T10:00:00Z", "user_id": "u1", "agency": "Town PD"}

# Well-typed messages as producers send them: Arrow parses the batch in one go.
TYPED = [
    {"search_id": "a", **BASE, "plate": "ab-1", "lat": 37.77493, "lon": -122.41942, "radius_m": 500, "networks_searched": 3},
    {"search_id": "b", **BASE, "user_id": "***", "reason": "stolen vehicle", "case_number": "24-001", "lat": None},
    {"search_id": "c", **BASE, "ts": "2025-10-01T10:00:00.123456789+02:00", "on_behalf_of": "Société Générale 🚓",
     "results": 0, "devices_searched": 12, "window_start": "2025-09-01T00:00:00Z", "extra": {"nested": [1, 2]}},
    {"search_id": "d", "ts": "2025-10-01T11:00:00Z", "user_id": "", "agency": "County SO", "agency_state": "ca",
     "search_type": "PLATE", "radius_m": 0.5, "networks_searched": 1200},
    {"search_id": "e", **BASE, "ts": "soon", "lat": 95},  # rejected by validation, not by decoding
    {"search_id": "f", **BASE, "radius_m": -1.5, "lon": float("nan")},
]
# Each of these sends its batch down the per-message path; with what it must come out as there.
HEAD = b'{"search_id": "g", "ts": "2025-10-01T10:00:00Z", "agency": "Town PD", '
AWKWARD = [
    (HEAD + b'"user_id": 123}', "user_id", "123"),  # a number for text
    (HEAD + b'"user_id": "u", "networks_searched": "7"}', "networks_searched", 7.0),
    (HEAD + b'"user_id": "u", "networks_searched": 2.0}', "networks_searched", 2.0),
    (HEAD + b'"user_id": "u", "lon": 12345678901234567890}', "lon", None),  # rejected: beyond 180 degrees
    (HEAD + b'"user_id": "u", "lat": 9007199254740993}', "lat", None),
    (HEAD + b'"user_id": "u", "user_id": "v"}', "user_id", "v"),  # a repeated key: the last one counts
    (HEAD + b'\n"user_id": "u"}', "user_id", "u"),  # two lines
    (HEAD + b'"user_id": "u", "reason": {"a": [1, 2]}}', "reason", '{"a": [1, 2]}'),
]
BAD = [b"not json", b"[1, 2]", b'"text"', b"", b"   ", b'{"search_id": "x"}{"search_id": "y"}', b'{"a": "\xff"}', None]


def canonical(frame: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    sink = RejectCounter()
    batch = canonicalize(frame, "x", np.arange(len(frame)), sink)
    return batch, [(r.line, r.field, r.reason) for r in sink.items]


def jsonl(tmp_path, values: list[bytes]) -> pd.DataFrame:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"\n".join(values) + b"\n")
    return pd.concat(list(read_searches(path, RejectCounter())), ignore_index=True)


def test_well_typed_messages_are_parsed_in_one_go_exactly_as_the_jsonl_reader_reads_them(tmp_path):
    values = [json.dumps(m, ensure_ascii=False).encode() for m in TYPED]
    columnar = decode._columnar(values)
    assert columnar is not None
    fast, fast_rejects = canonical(columnar)
    slow, slow_rejects = canonical(decode._per_message(values)[0])
    pd.testing.assert_frame_equal(fast, slow)
    pd.testing.assert_frame_equal(fast, jsonl(tmp_path, values))
    assert [r[:2] for r in fast_rejects] == [(4, "ts"), (5, "radius_m")] == [r[:2] for r in slow_rejects]
    assert fast["plate"].tolist()[0] == "AB1" and fast["user_id"].tolist()[1] == ""


@pytest.mark.parametrize(("odd", "field", "value"), AWKWARD)
def test_a_message_arrow_might_read_differently_sends_the_batch_down_the_per_message_path(odd, field, value):
    values = [json.dumps(m).encode() for m in TYPED[:2]] + [odd]
    assert decode._columnar(values) is None
    frame, bad = decode.decode_searches(values)
    batch, rejects = canonical(frame)
    assert bad == [] and batch["search_id"].tolist()[:2] == ["a", "b"]
    if value is None:
        assert [(line, name) for line, name, _ in rejects] == [(2, field)]
    else:
        assert batch[field].tolist()[2] == value


def test_undecodable_messages_are_named_with_their_reason_and_the_rest_kept():
    good = [json.dumps(m).encode() for m in TYPED[:3]]
    values = [good[0], *BAD, good[1], good[2]]
    frame, bad = decode.decode_searches(values)
    assert [i for i, _ in bad] == list(range(1, 1 + len(BAD)))
    assert all(reason.startswith("not a JSON object: ") for _, reason in bad)
    assert bad[-1][1] == "not a JSON object: empty message"
    assert frame["search_id"].tolist() == ["a", "b", "c"]


def _context(partitions: int = 2) -> StageContext:
    detector = Detector(Reference(), load_policy("generic"))
    counts = {"t": partitions, "t.by-target": 3, "t.episodes": 3}
    return StageContext(detector, Topics("t"), counts, StreamMetrics(), lambda *a: None, 1.0)


def test_stage_one_features_every_partition_as_its_own_user_stage_would(tmp_path):
    """One context for all partitions of a poll, then each partition's feature state: what user_stage gives."""
    start = pd.Timestamp("2025-10-01T08:00:00Z")
    messages = {0: [], 1: []}
    for i in range(120):
        m = {"search_id": f"s{i:03d}", "ts": (start + pd.Timedelta(minutes=7 * i)).isoformat(), "user_id": f"u{i % 5}",
             "agency": ["Town PD", "County SO"][i % 2], "plate": f"P{i % 9}" if i % 11 else "***",  # some withheld
             "case_number": "C1" if i % 3 else ""}
        messages[i % 2].append(json.dumps(m).encode())
    messages[1][40], messages[1][41] = messages[1][41], messages[1][40]  # out of time order: two runs
    messages[0].append(messages[0][3])  # delivered twice
    ctx = _context()
    tasks = [SearchTask("t", p, ctx) for p in (0, 1)]
    for lo, hi in ((0, 25), (25, 61)):  # two polls
        process_searches([(task, [Record(o, 1000 + o, b"k", v) for o, v in enumerate(messages[p]) if lo <= o < hi])
                          for p, task in enumerate(tasks)], ctx)
    assert ctx.metrics.total(ctx.metrics.duplicates) == 1
    for p, task in enumerate(tasks):
        sent = pd.concat([t.to_pandas() for parts in task.outbox.values() for t in parts]).sort_values("_src")
        rows = [json.loads(v) for v in messages[p][:60]]
        alone = Detector(Reference(), load_policy("generic"))
        alone.user_side = UserSide()
        expected = []
        for lo, hi in ((0, 25), (25, 60)):
            batch = canonical(decode.raw_frame(rows[lo:hi]))[0]
            t = batch["ts"].to_numpy()
            cuts = [0, *(np.flatnonzero(t[1:] < t[:-1]) + 1).tolist(), len(batch)]
            expected += [alone.user_stage(batch.iloc[a:b].reset_index(drop=True)).drop(columns="input_pos")
                         for a, b in zip(cuts[:-1], cuts[1:])]
        expected = pd.concat(expected, ignore_index=True)
        got = sent.drop(columns=["_src", "_in_ms"]).set_index("search_id").loc[expected["search_id"]].reset_index()
        pd.testing.assert_frame_equal(got, expected[got.columns])
        assert sent["_src"].tolist() == list(range(60))  # offset order; the repeat dropped
        state, reference = task.user_side.to_arrays(), alone.user_side.to_arrays()
        assert state.keys() == reference.keys()
        for name in state:  # the same entities under the same codes: nothing of other partitions
            assert state[name].tolist() == reference[name].tolist(), name
        assert len(task.seen) == 60


def test_search_ids_are_remembered_across_polls_and_within_one():
    task = SearchTask("t", 0, _context())
    first = task.first_sightings(np.array([5, 3, 5, 9], dtype=np.uint64), np.full(4, 10))
    second = task.first_sightings(np.array([9, 1, 3, 2, 1], dtype=np.uint64), np.full(5, 20))
    assert first.tolist() == [True, True, False, True]
    assert second.tolist() == [False, True, False, True, False]
    ids, times = task.seen.arrays()
    assert ids.tolist() == [1, 2, 3, 5, 9]
    assert times.tolist() == [20, 20, 10, 10, 10]


def test_search_ids_are_forgotten_when_the_user_side_forgets_what_went_idle_before_they_ran():
    task = SearchTask("t", 0, _context())
    day = 86_400 * 10**9
    task.first_sightings(np.array([5, 3], dtype=np.uint64), np.array([0, 100 * day]))
    task.user_side.forget(now=181 * day)  # as it does once a quarter of its memory has passed
    # 5 ran more than the memory before: delivered again, it counts once more
    again = task.first_sightings(np.array([5, 3, 7], dtype=np.uint64), np.array([0, 100 * day, 181 * day]))
    assert again.tolist() == [True, False, True]
    assert task.seen.arrays()[0].tolist() == [3, 5, 7]
    task.first_sightings(np.array([8], dtype=np.uint64), np.array([182 * day]))
    assert task.seen.arrays()[0].tolist() == [3, 7, 8]


def test_a_checkpoint_from_before_the_search_times_takes_its_ids_as_seen_at_its_watermark():
    task = SearchTask("t", 0, _context())
    task.first_sightings(np.array([5, 3], dtype=np.uint64), np.array([10, 20]))
    task.wm = 20
    arrays, meta = task.state()
    del arrays["seen_t"]  # as written by the version before it
    resumed = SearchTask("t", 0, _context())
    resumed.load(arrays, meta)
    assert [a.tolist() for a in resumed.seen.arrays()] == [[3, 5], [20, 20]]
    assert resumed.first_sightings(np.array([3, 4], dtype=np.uint64), np.array([30, 30])).tolist() == [False, True]
