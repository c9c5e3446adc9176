"""The stream's pieces without a broker: state codec, repartition messages, event-time merge."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from detector.alerts import Alerter
from detector.engine import Detector
from detector.features import TargetSide, UserSide
from detector.policy import load_policy
from detector.reference import Reference
from detector.rules import SIGNAL_INDEX
from streams.checkpoint import alerter_state, decode_state, encode_state, load_alerter
from detector.validate import RejectCounter, canonicalize
from streams.merge import END, NO_WM, SOURCE, Merger, Packet, decode_packet, encode_packet, packets


def make_batch(rows: list[dict]) -> pd.DataFrame:
    base = {"ts": "2025-10-01T10:00:00Z", "user_id": "u1", "agency": "Town PD", "agency_state": "CA"}
    raw = pd.DataFrame([{"search_id": f"s{i}", **base, **r} for i, r in enumerate(rows)])
    return canonicalize(raw, "test", np.arange(len(rows)), RejectCounter())


def featured(n: int = 40) -> pd.DataFrame:
    start = pd.Timestamp("2025-10-01T10:00:00Z")
    rows = [{"search_id": f"s{i:04d}", "ts": (start + pd.Timedelta(minutes=(i * 7) % 50 + i // 3)).isoformat(),
             "user_id": f"u{i % 3}", "plate": f"P{i % 5}", "case_number": "" if i % 2 else "C1"} for i in range(n)]
    det = Detector(Reference(), load_policy("generic"))
    return det.target_stage(det.user_stage(make_batch(rows)))


def table(rows: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(rows, preserve_index=False).replace_schema_metadata(None)


NOTHING = pa.table({})


def test_state_codec_round_trips_detector_state_without_pickle():
    det = Detector(Reference(), load_policy("generic"))
    det.target_stage(det.user_stage(make_batch([{"plate": "ab1"}, {"search_id": "x", "plate": "cd2", "user_id": "u2"}])))
    blob = encode_state({**{f"u.{k}": v for k, v in det.user_side.to_arrays().items()},
                         **{f"t.{k}": v for k, v in det.target_side.to_arrays().items()}}, {"wm": 5, "idle": [True]})
    arrays, meta = decode_state(blob)
    assert meta == {"wm": 5, "idle": [True]}
    user, target = UserSide(), TargetSide()
    user.load_arrays({k[2:]: v for k, v in arrays.items() if k.startswith("u.")})
    target.load_arrays({k[2:]: v for k, v in arrays.items() if k.startswith("t.")})
    for a, b in ((det.user_side.to_arrays(), user.to_arrays()), (det.target_side.to_arrays(), target.to_arrays())):
        assert a.keys() == b.keys()
        for k in a:
            assert a[k].tolist() == b[k].tolist(), k


def test_state_codec_round_trips_an_empty_state():
    """A partition's state before its first search: tables of no rows, some of them (0, width)."""
    arrays = {**{f"u.{k}": v for k, v in UserSide().to_arrays().items()},
              **{f"t.{k}": v for k, v in TargetSide().to_arrays().items()}}
    assert any(v.ndim == 2 and not len(v) for v in arrays.values())
    loaded, _ = decode_state(encode_state(arrays, {}))
    assert {k: (v.shape, v.dtype) for k, v in loaded.items()} == {k: (v.shape, v.dtype) for k, v in arrays.items()}


def test_state_blobs_of_the_previous_version_still_load():
    """Before the compressed layout a task's state was an npz, string arrays as JSON in ``<name>::json``."""
    import io
    import json

    arrays = {"seen": np.array([3, 9], dtype=np.uint64), "user.vocab": np.array(["a", "Muñoz"], dtype=object),
              "grid": np.arange(6.0).reshape(2, 3)}
    buf = io.BytesIO()
    np.savez(buf, **{"seen": arrays["seen"], "grid": arrays["grid"],
                     "user.vocab::json": np.frombuffer(json.dumps(["a", "Muñoz"], ensure_ascii=False).encode(), dtype=np.uint8),
                     "__meta__::json": np.frombuffer(json.dumps({"wm": 7}).encode(), dtype=np.uint8)})
    for blob in (buf.getvalue(), encode_state(arrays, {"wm": 7})):
        loaded, meta = decode_state(blob)
        assert meta == {"wm": 7} and sorted(loaded) == sorted(arrays)
        for name, values in arrays.items():
            assert loaded[name].dtype == values.dtype and loaded[name].tolist() == values.tolist()
            assert loaded[name].flags.writeable or values.dtype == object  # the kernels update state in place
    assert len(encode_state({"slots": np.full(100_000, -1)}, {})) < 10_000  # unused slots cost next to nothing


def test_repartition_rows_go_to_arrow_as_from_pandas_takes_them():
    from streams.stages import _arrow

    rows = featured()
    rows.loc[3, "net_mean"] = np.nan
    rows[SOURCE] = np.arange(len(rows))
    ours = _arrow({name: rows[name].array for name in rows.columns})
    assert ours.schema == table(rows).schema
    assert ours.equals(table(rows))  # NaN as null, strings as pandas holds them


class _Acked:
    """A send's future as kafka-python hands it back."""

    def __init__(self, offset: int | None) -> None:
        self.offset = offset

    def succeeded(self) -> bool:
        return self.offset is not None

    @property
    def value(self):
        return type("RecordMetadata", (), {"offset": self.offset})()


def test_only_what_lands_next_in_the_log_is_handed_over_at_once():
    from streams.stream import next_in_log

    def offsets(next_offset, acked):
        return [r.offset for r in next_in_log(next_offset, [(_Acked(o), b"k", b"v") for o in acked])]

    assert offsets(10, [10, 11, 12]) == [10, 11, 12]
    assert offsets(10, [11, 12]) == []  # another instance wrote offset 10: the consumer brings it first
    assert offsets(10, [10, 12, 13]) == [10]  # and here offset 11
    assert offsets(10, [10, None, 12]) == [10]  # not acknowledged (yet): the rest waits for the consumer


def _flagged() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Featured rows, every one scored over the threshold, and their attributions."""
    ctx = featured()
    _, _, attr = Detector(Reference(), load_policy("generic")).score(ctx)
    return ctx, np.full(len(ctx), 90.0), attr


def test_alerter_state_round_trips_open_episodes():
    ctx, score, attr = _flagged()
    alerter = Alerter(60.0)
    alerter.add(ctx, score, attr, 60.0)
    again = Alerter(60.0)
    load_alerter(again, alerter_state(alerter))
    assert [a.to_record() for a in again.open.values()] == [a.to_record() for a in alerter.open.values()]


def test_open_episodes_checkpointed_before_a_statistic_was_added_go_on():
    ctx, score, attr = _flagged()
    alerter = Alerter(60.0)
    alerter.add(ctx.iloc[:5].reset_index(drop=True), score[:5], attr[:5], 60.0)
    state = alerter_state(alerter)
    for episode in state:  # as the version before these statistics wrote it
        del episode["stats"]["circle_repeat"], episode["stats"]["plate_users_window"]
    again = Alerter(60.0)
    load_alerter(again, state)
    _, touched, _ = again.add(ctx.iloc[5:].reset_index(drop=True), score[5:], attr[5:], 60.0)
    assert touched and all(a.stats["circle_repeat"] >= 0 for a in touched)
    assert all(a.to_record()["search_ids"] for a in touched)


def test_searches_held_by_an_episode_not_yet_open_survive_a_checkpoint():
    ctx, _, attr = _flagged()
    score = np.full(len(ctx), 61.0)  # over the flag threshold, under the opening one: held
    alerter = Alerter(95.0)
    ids, touched, _ = alerter.add(ctx.iloc[:1].reset_index(drop=True), score[:1], attr[:1], 60.0)
    assert not any(ids) and not touched
    _, meta = decode_state(encode_state({}, {"open": alerter_state(alerter)}))  # as the checkpoint stores it
    state = meta["open"]
    again = Alerter(95.0)
    load_alerter(again, state)
    strong = np.array([99.0])
    same_key = ctx.iloc[:1].copy()
    same_key["search_id"], same_key["t"] = "later", same_key["t"] + 1
    ids, (alert,), late = again.add(same_key.reset_index(drop=True), strong, attr[:1], 60.0)
    assert late["search_id"].tolist() == [ctx["search_id"].iloc[0]] and late["alert_id"].tolist() == [alert.alert_id]
    assert alert.search_ids == [ctx["search_id"].iloc[0], "later"]


def test_episodes_checkpointed_before_searches_were_held_open_without_them():
    ctx, _, attr = _flagged()
    alerter = Alerter(95.0)
    alerter.add(ctx.iloc[:1].reset_index(drop=True), np.array([61.0]), attr[:1], 60.0)
    state = alerter_state(alerter)
    for episode in state:  # as the version before held searches wrote it
        del episode["held"]
    again = Alerter(95.0)
    load_alerter(again, state)
    later = ctx.iloc[:1].copy()
    later["search_id"] = "later"
    _, (alert,), late = again.add(later.reset_index(drop=True), np.array([99.0]), attr[:1], 60.0)
    assert late.empty and alert.search_ids == ["later"]


def test_packet_keeps_values_and_dtypes_exactly():
    rows = featured()
    rows[SOURCE] = np.arange(len(rows))
    pkt = decode_packet(encode_packet(3, 17, False, table(rows)))
    assert (pkt.origin, pkt.wm, pkt.idle) == (3, 17, False)
    pd.testing.assert_frame_equal(pkt.rows.to_pandas(), rows)
    empty = decode_packet(encode_packet(1, END, True, None))
    assert (empty.origin, empty.wm, empty.idle, empty.rows.num_rows) == (1, END, True, 0)


@pytest.mark.parametrize("value", [b"", b"{}", b"not arrow", None])
def test_anything_else_is_not_a_packet(value):
    with pytest.raises((ValueError, KeyError, TypeError)):
        decode_packet(value)


def test_split_packets_promise_only_their_own_last_time(monkeypatch):
    monkeypatch.setattr("streams.merge.MAX_ROWS", 400)
    rows = featured(1000)
    rows[SOURCE] = np.arange(len(rows))
    msgs = [decode_packet(m) for m in packets(0, table(rows), END, True)]
    assert len(msgs) == 3 and sum(m.rows.num_rows for m in msgs) == 1000
    assert [m.idle for m in msgs] == [False, False, True]
    assert msgs[0].wm == msgs[0].rows.column("t")[-1].as_py() and msgs[-1].wm == END


def _split(origin: int, rows: pd.DataFrame, sizes: list[int]) -> list[Packet]:
    out, start = [], 0
    for size in sizes:
        chunk = rows.iloc[start:start + size].reset_index(drop=True)
        start += size
        out.append(Packet(origin, int(chunk["t"].iloc[-1]) if len(chunk) else NO_WM, False, table(chunk)))
    return out


def test_merger_releases_in_event_time_whatever_the_interleaving():
    rows = featured(60)
    rows[SOURCE] = np.arange(len(rows))
    a, b = rows.iloc[::2].reset_index(drop=True), rows.iloc[1::2].reset_index(drop=True)
    a[SOURCE], b[SOURCE] = np.arange(len(a)), np.arange(len(b))
    expected = rows.sort_values(["t", "search_id"], kind="stable")["search_id"].tolist()
    rng = np.random.default_rng(0)
    for trial in range(5):
        log = _split(0, a, [5, 10, 15]) + _split(1, b, [12, 18])
        order = rng.permutation(len(log))
        # each origin's own messages stay in order; origins interleave at random
        by_origin = {0: [p for p in log if p.origin == 0], 1: [p for p in log if p.origin == 1]}
        merged = [by_origin[log[i].origin].pop(0) for i in order]
        m = Merger(2)
        released = []
        for pkt in merged + [Packet(0, END, True, NOTHING), Packet(1, END, True, NOTHING)]:
            out, _, late = m.offer(pkt)
            assert late == 0
            if out is not None:
                released += out.column("search_id").to_pylist()
        assert released == expected, trial
        assert m.empty


def test_merger_drops_rows_an_upstream_task_sends_again():
    rows = featured(20)
    rows[SOURCE] = np.arange(len(rows))
    m = Merger(1)
    first, _, _ = m.offer(Packet(0, NO_WM, False, table(rows.iloc[:12])))
    out, dups, _ = m.offer(Packet(0, END, True, table(rows.iloc[8:])))
    assert dups == 4
    released = first.column("search_id").to_pylist() + out.column("search_id").to_pylist()
    assert sorted(released) == sorted(rows["search_id"]) and len(released) == 20


def test_merger_state_survives_a_checkpoint():
    rows = featured(30)
    rows[SOURCE] = np.arange(len(rows))
    m = Merger(2)
    m.offer(Packet(0, NO_WM, False, table(rows.iloc[:20])))
    arrays, meta = m.to_arrays()
    restored = Merger(2)
    a2, meta2 = decode_state(encode_state(arrays, meta))
    restored.load_arrays(a2, meta2)
    for merger in (m, restored):
        out, _, _ = merger.offer(Packet(1, END, True, NOTHING))
        assert out is not None
    assert m.offer(Packet(0, END, True, table(rows.iloc[20:])))[0].equals(
        restored.offer(Packet(0, END, True, table(rows.iloc[20:])))[0])


def test_merger_snapshot_is_not_changed_by_later_messages():
    """The checkpoint thread encodes a snapshot while the merger takes the next messages.

    Had the snapshot shared the positions with the merger, a restore would skip rows
    it never committed as already applied: they would be lost.
    """
    rows = featured(30)
    rows[SOURCE] = np.arange(len(rows))
    m = Merger(2)
    m.offer(Packet(0, NO_WM, False, table(rows.iloc[:10])))
    arrays, meta = m.to_arrays()
    at_snapshot = encode_state(arrays, meta)
    m.offer(Packet(0, NO_WM, False, table(rows.iloc[10:])))
    m.offer(Packet(1, END, True, NOTHING))
    assert encode_state(arrays, meta) == at_snapshot


@pytest.mark.parametrize("origins", [1, 3])
def test_merger_holds_rows_until_every_origin_is_heard_from(origins):
    rows = featured(5)
    rows[SOURCE] = np.arange(len(rows))
    m = Merger(origins)
    out, _, _ = m.offer(Packet(0, END, False, table(rows)))
    assert (out is None) == (origins > 1)


def test_metrics_are_served_to_prometheus_without_identifiers():
    import urllib.request

    from kafka_broker import free_port
    from streams.metrics import StreamMetrics

    port = free_port()
    m = StreamMetrics(port)
    m.dlq.labels("ts").inc(2)
    m.lag.labels("alpr.searches", "0").set(5)
    m.committed({"score": np.array([1.0]), "alert": np.array([])})
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'alpr_stream_dead_letters_total{field="ts"} 2.0' in text
    assert 'alpr_stream_lag{partition="0",topic="alpr.searches"} 5.0' in text
    assert "alpr_stream_produce_to_score_seconds_count 1.0" in text


def test_latency_histograms_filled_in_bulk_read_as_prometheus_histograms_do():
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    from streams.metrics import LATENCY_BUCKETS, BulkHistogram

    one_by_one, bulk = CollectorRegistry(), CollectorRegistry()
    reference = Histogram("x_seconds", "doc", registry=one_by_one, buckets=LATENCY_BUCKETS)
    ours = BulkHistogram("x_seconds", "doc", bulk)
    for values in ([0.01, 0.3, 1.0, 2.5], [], [100.0, 0.004, 0.05, 0.05]):  # on a bound, between, beyond the last
        for v in values:
            reference.observe(v)
        ours.observe_many(np.array(values))

    def lines(registry):
        return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]

    assert lines(bulk) == lines(one_by_one)
    assert 'x_seconds_bucket{le="0.05"} 4.0' in lines(bulk) and "x_seconds_count 8.0" in lines(bulk)


def test_stream_detector_scores_with_reviewer_weights_as_replay_does(tmp_path):
    from models.feedback import Feedback
    from streams.stream import build_detector

    learned = Feedback()
    learned.weights["vague_reason"] = 0.0  # reviewers found vague reasons alone say nothing
    learned.weights["repeat_plate"] = 0.5
    path = tmp_path / "weights.json"
    learned.save(path)
    weighted = build_detector(None, "california", None, Feedback.load(path).fusion())
    plain = build_detector(None, "california", None)
    assert weighted.fusion.weights == learned.fusion().weights
    assert weighted.fusion.weights != plain.fusion.weights
    stalking = make_batch([{"ts": f"2025-10-{d:02d}T10:00:00Z", "plate": "EX1", "reason": "inv"} for d in range(1, 11)])
    assert weighted.process(stalking).scores["score"].max() < plain.process(stalking).scores["score"].max()


def test_stream_detector_applies_suppression_rules_as_replay_does(tmp_path):
    from detector.suppress import load_suppressions
    from streams.stream import build_detector

    path = tmp_path / "rules.yaml"
    path.write_text("suppressions:\n  - {id: assigned, reason: watch order W-3, plate: EX1, signals: [repeat_plate], expires: 2025-12-31}\n")
    ruled = build_detector(None, "california", None, suppressions=load_suppressions(path))
    plain = build_detector(None, "california", None)
    stalking = [{"ts": f"2025-10-{d:02d}T10:00:00Z", "plate": "EX1", "reason": "inv"} for d in range(1, 11)]
    assert plain.process(make_batch(stalking)).signals[:, SIGNAL_INDEX["repeat_plate"]].max() > 0.9
    assert ruled.process(make_batch(stalking)).signals[:, SIGNAL_INDEX["repeat_plate"]].max() == 0
    assert ruled.suppressions.hits["assigned"] == 10


def test_withheld_plates_are_keyed_alike_by_the_stream_stages_and_a_replay():
    """A withheld plate (``***``) is no plate to the feature state, though a plate lookup: stage 2,
    which keys again on the plate column stage 1 wrote, sees the same plates as one process does."""
    start = pd.Timestamp("2025-10-01T10:00:00Z")
    rows = [{"ts": (start + pd.Timedelta(minutes=i)).isoformat(), "plate": "***" if i % 3 else f"P{i % 2}",
             "user_id": f"u{i % 2}"} for i in range(30)]
    staged = Detector(Reference(), load_policy("generic"))
    staged = staged.target_stage(staged.user_stage(make_batch(rows)))
    whole = Detector(Reference(), load_policy("generic")).features(make_batch(rows))
    pd.testing.assert_frame_equal(staged, whole)
    withheld = whole[whole["plate"] == ""]
    assert len(withheld) == 20 and withheld["plate_lookup"].all()
    assert (withheld["plate_users"] == 0).all() and (withheld["up_count"] == 0).all()
