"""Reviewer feedback: dispositions on 1% of alerts must measurably raise precision."""

import json

import numpy as np
import pandas as pd
import pytest

from detector.evaluate import evaluate
from detector.scoring import DEFAULT_WEIGHTS, Fusion
from models.feedback import Feedback, learn
from streams.replay import replay
from synthetic import generate

THRESHOLD = 40.0  # a wide net (flag and open an alert from 40): many candidate alerts, as a queue before tuning looks


def record(alert_id, signal, score=80.0):
    return {"alert_id": alert_id, "score": score, "search_ids": ["s1"], "signals": [{"name": signal, "weight": 1.0}]}


def test_dismissed_signal_loses_weight_confirmed_one_keeps_it():
    recs = [record(f"r{i}", "repeat_plate") for i in range(20)] + [record(f"v{i}", "volume_burst") for i in range(20)]
    fb = learn(recs, {"r1": "confirmed_misuse", "v1": "false_positive", "v2": "justified", "v3": "needs_information"})
    assert fb.labelled == 3
    assert fb.weights["repeat_plate"] == DEFAULT_WEIGHTS["repeat_plate"]
    assert fb.weights["volume_burst"] < DEFAULT_WEIGHTS["volume_burst"]
    assert fb.weights["outside_sharing"] == DEFAULT_WEIGHTS["outside_sharing"]  # nothing judged, nothing learned


def test_no_dispositions_change_nothing(tmp_path):
    fb = learn([record("a", "repeat_plate")], {})
    assert fb.weights == DEFAULT_WEIGHTS
    fb.save(tmp_path / "w.json")
    assert Feedback.load(tmp_path / "w.json").weights == DEFAULT_WEIGHTS


def test_weights_file_with_unknown_signal_is_refused(tmp_path):
    (tmp_path / "w.json").write_text(json.dumps({"weights": {"telepathy": 1.0}}))
    with pytest.raises(ValueError, match="unknown signals"):
        Feedback.load(tmp_path / "w.json")


@pytest.mark.slow
def test_one_percent_of_dispositions_raise_precision(tmp_path):
    """Three reviewers' draws of 1% of the alerts (seven of about 680): the typical one raises
    precision by a tenth or more, none lowers it, and incident recall holds.

    One draw alone says more about the draw than about the method: the queue is about 60%
    false, and a draw of seven holding two false alerts (rng 0) taught the weights next to
    nothing (0.393 -> 0.408), while draws of three to six taught them 0.26 to 0.33.
    """
    data = tmp_path / "data"
    generate(days=60, seed=21, searches=1_000_000).write(data, format="parquet")
    labelled = set(pd.read_csv(data / "labels.csv", dtype=str)["search_id"])
    replay(data, tmp_path / "before", fusion=Fusion(threshold=THRESHOLD, open_threshold=THRESHOLD), progress=False, retrospective=False,
           store_searches=False)
    before = evaluate(data / "labels.csv", tmp_path / "before")
    records = [json.loads(line) for line in (tmp_path / "before" / "alerts.jsonl").read_text().splitlines()]
    gains = []
    for draw in range(3):
        picked = np.random.default_rng(draw).choice(len(records), max(1, round(0.01 * len(records))), replace=False)
        truth = {records[i]["alert_id"]: "confirmed_misuse" if np.mean([s in labelled for s in records[i]["search_ids"]]) >= 0.5
                 else "false_positive" for i in picked}
        fb = learn(records, truth)
        out = tmp_path / f"after{draw}"
        replay(data, out, fusion=Fusion(weights=fb.weights, threshold=THRESHOLD, open_threshold=THRESHOLD), progress=False,
               retrospective=False, store_searches=False)
        after = evaluate(data / "labels.csv", out)
        print(f"draw {draw}: precision {before.alert_precision:.3f} -> {after.alert_precision:.3f} with {len(truth)} dispositions; "
              f"incident recall {before.incident_recall:.3f} -> {after.incident_recall:.3f}")
        gains.append(after.alert_precision - before.alert_precision)
        assert after.alert_precision >= before.alert_precision
        assert after.incident_recall >= before.incident_recall - 0.1
    assert float(np.median(gains)) >= 0.1
