"""export: the store's scores and alerts in the form replay writes them."""

from __future__ import annotations

import json

import pandas as pd

from detector import store
from streams.export import export


def test_export_writes_replay_shaped_files(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    engine = store.open_store(url)
    record = {"alert_id": "A1", "severity": "high", "score": 88.5, "user_id": "u1", "agency": "PD", "pattern": "repeat_plate",
              "first_ts": "2025-10-01T10:00:00+00:00", "last_ts": "2025-10-02T10:00:00+00:00",
              "search_ids": ["s2", "s1"], "signals": [{"name": "repeat_plate", "weight": 0.8, "detail": "x"}], "summary": "y"}
    with engine.begin() as conn:
        store.save_scores(conn, pd.DataFrame({"search_id": ["s2", "s1", "s0"], "score": [88.5, 70.25, 3.0],
                                              "flagged": [True, True, False], "alert_id": ["A1", "A1", ""]}))
        store.save_alerts(conn, [record])
    engine.dispose()
    paths = export(url, tmp_path / "out")
    assert [p.name for p in paths] == ["scores.csv", "alerts.jsonl"]
    scores = pd.read_csv(tmp_path / "out" / "scores.csv", keep_default_na=False)
    assert scores.to_dict("records") == [
        {"search_id": "s0", "score": 3.0, "flagged": False, "alert_id": ""},
        {"search_id": "s1", "score": 70.25, "flagged": True, "alert_id": "A1"},
        {"search_id": "s2", "score": 88.5, "flagged": True, "alert_id": "A1"},
    ]
    lines = (tmp_path / "out" / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [record]
