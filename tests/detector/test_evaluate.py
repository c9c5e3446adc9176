"""Quality against labels: the rates, and the incidents missed and the alerts that were false by name."""

import json

import pandas as pd
import pytest

from detector.evaluate import evaluate
from detector.validate import InputError


@pytest.fixture
def results(tmp_path):
    pd.DataFrame({"search_id": ["s1", "s2", "s3", "s4"], "scenario": ["stalking", "stalking", "associates", "associates"],
                  "incident_id": ["st-1", "st-1", "as-1", "as-1"]}).to_csv(tmp_path / "labels.csv", index=False)
    pd.DataFrame({"search_id": ["s1", "s2", "s3", "s4", "b1", "b2"], "score": [80.0, 30.0, 40.0, 55.5, 90.0, 1.0],
                  "flagged": [True, False, False, False, True, False],
                  "alert_id": ["A1", "", "", "", "A2", ""]}).to_csv(tmp_path / "scores.csv", index=False)
    alerts = [{"alert_id": "A1", "score": 80.0, "search_ids": ["s1"], "signals": [{"name": "repeat_plate", "weight": 1.0}]},
              {"alert_id": "A2", "score": 90.0, "search_ids": ["b1"], "signals": [{"name": "household_sweep", "weight": 0.8},
                                                                                   {"name": "no_case_number", "weight": 0.2}]}]
    (tmp_path / "alerts.jsonl").write_text("".join(json.dumps(a) + "\n" for a in alerts))
    return tmp_path


def test_the_missed_incidents_and_false_alerts_are_named(results):
    searches = pd.DataFrame({"search_id": ["s1", "s2", "s3", "s4"], "reason": ["inv", "inv", "inv", "ICE hold"]})
    q = evaluate(results / "labels.csv", results, searches)
    assert (q.incident_recall, q.alert_precision) == (0.5, 0.5)
    assert [(m.incident_id, m.scenario, m.searches, m.best_score, m.laundered) for m in q.missed] == [("as-1", "associates", 2, 55.5, False)]
    assert [(f.alert_id, f.pattern, f.searches, f.labelled_share) for f in q.false_alerts] == [("A2", "household_sweep", 1, 0.0)]
    table = q.table()
    assert "as-1 (associates): 2 searches, best score 55.5" in table
    assert "false alerts: 1 of 2 (household_sweep 1)" in table and "A2: household_sweep, 1 search, score 90.0" in table
    assert json.loads(q.to_json())["missed"][0]["incident_id"] == "as-1"


def test_a_bad_alert_line_is_an_error_naming_the_file_line_and_field(results):
    good = (results / "alerts.jsonl").read_text()
    (results / "alerts.jsonl").write_text(good + '{"alert_id": "A3", "search_ids": ["b2"]}\n')
    with pytest.raises(InputError, match=r"alerts.jsonl: line 3: missing field\(s\) score"):
        evaluate(results / "labels.csv", results)
    (results / "alerts.jsonl").write_text(good + "{not json\n")
    with pytest.raises(InputError, match=r"alerts.jsonl: line 3: not JSON"):
        evaluate(results / "labels.csv", results)
