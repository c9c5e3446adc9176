"""Alerts are episodes: one officer on one person is one alert, however many searches."""

import pandas as pd

from batches import REF, days, make_batch
from detector.engine import Detector
from detector.policy import load_policy


def run(rows):
    det = Detector(REF, load_policy("california"))
    res = det.process(make_batch(rows))
    return res, {a.alert_id: a.to_record() for a in res.alerts}


def test_one_stalking_episode_is_one_alert():
    res, alerts = run([{"ts": t, "plate": "EX1", "reason": "inv"} for t in days(20)])
    assert len(alerts) == 1
    (rec,) = alerts.values()
    flagged = res.scores[res.scores["flagged"]]
    assert set(rec["search_ids"]) == set(flagged["search_id"]) and len(flagged) >= 10
    assert (flagged["alert_id"] == rec["alert_id"]).all()
    assert rec["pattern"] == "repeat_plate" and rec["user_id"] == "u1"
    assert "EX1" not in rec["summary"] and "plate#" in rec["summary"]
    assert abs(sum(s["weight"] for s in rec["signals"]) - 1.0) < 0.02


def test_two_users_on_two_people_are_two_alerts():
    rows = [{"ts": t, "plate": "EX1", "reason": "inv"} for t in days(20)]
    rows += [{"ts": t, "plate": "SELF1", "user_id": "u3", "reason": "inv"} for t in days(20)]
    _, alerts = run(rows)
    assert sorted(a["user_id"] for a in alerts.values()) == ["u1", "u3"]


def test_a_long_quiet_gap_opens_a_new_episode():
    first = [{"ts": t, "plate": "EX1", "reason": "inv"} for t in days(12)]
    later = [{"ts": t, "plate": "EX1", "reason": "inv"} for t in days(6, start="2026-03-01T10:00:00Z")]
    _, alerts = run(first + later)
    assert len(alerts) == 2


def test_alert_ids_do_not_depend_on_batching():
    rows = [{"ts": t, "plate": "EX1", "reason": "inv"} for t in days(20)]
    whole = Detector(REF, load_policy("california")).process(make_batch(rows)).scores
    det = Detector(REF, load_policy("california"))
    batch = make_batch(rows)
    parts = pd.concat([det.process(batch.iloc[i:i + 7].reset_index(drop=True)).scores for i in range(0, 20, 7)], ignore_index=True)
    pd.testing.assert_frame_equal(whole, parts)
