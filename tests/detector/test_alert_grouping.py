"""Alerts are episodes: one officer on one person is one alert, however many searches."""

import numpy as np
import pandas as pd

from batches import REF, days, make_batch
from detector.alerts import Alerter
from detector.engine import Detector
from detector.rules import SIGNAL_INDEX, SIGNALS
from detector.scoring import OPEN_THRESHOLD
from detector.policy import load_policy
from detector.schema import NS_DAY


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


def _weak_episode(n: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """``n`` searches of one plate by one user, each over the flag threshold but under the opening one."""
    det = Detector(REF, load_policy("california"))
    ctx = det.features(make_batch([{"ts": t, "plate": "EX1", "reason": "inv"} for t in days(n)]))
    det.score(ctx)  # adds the per-search columns an alert counts
    attr = np.zeros((n, len(SIGNALS)))
    attr[:, SIGNAL_INDEX["repeat_plate"]] = 1.0
    return ctx, np.full(n, 70.0), attr


def test_one_weak_search_opens_no_alert_but_an_episode_of_them_does():
    ctx, score, attr = _weak_episode(1)
    ids, touched, late = Alerter(open_threshold=80.0).add(ctx, score, attr, 60.0)
    assert ids.tolist() == [""] and touched == [] and late.empty

    ctx, score, attr = _weak_episode(8)
    alerter = Alerter(open_threshold=80.0)
    ids, touched, late = alerter.add(ctx, score, attr, 60.0)
    # 70 + 4 * log2(n) reaches 80 with the sixth search, which opens the alert: the five before it join it
    assert all(ids) and len(set(ids)) == 1 and late.empty
    (alert,) = touched
    assert alert.search_ids == ctx["search_id"].tolist()
    assert alert.to_record()["first_ts"] == pd.Timestamp(ctx["t"].iloc[0], tz="UTC").isoformat()


def test_searches_an_episode_held_in_earlier_batches_come_back_in_the_alert_it_opens():
    ctx, score, attr = _weak_episode(8)
    alerter = Alerter(open_threshold=80.0)
    ids, touched, late = alerter.add(ctx.iloc[:3].reset_index(drop=True), score[:3], attr[:3], 60.0)
    assert not any(ids) and touched == [] and late.empty
    ids, touched, late = alerter.add(ctx.iloc[3:].reset_index(drop=True), score[3:], attr[3:], 60.0)
    (alert,) = touched
    assert (ids == alert.alert_id).all()  # the sixth search opened it; the two of this batch before it are in it
    assert late["search_id"].tolist() == ctx["search_id"].iloc[:3].tolist()
    assert late["flagged"].all() and (late["alert_id"] == alert.alert_id).all() and (late["score"] == 70.0).all()
    assert alert.search_ids == ctx["search_id"].tolist()
    record = alert.to_record()
    assert record["first_ts"] == pd.Timestamp(ctx["t"].iloc[0], tz="UTC").isoformat()
    assert "8 times between 2025-10-01 and 2025-10-08" in record["summary"]  # the whole episode, from the first held search


def test_the_detector_hands_back_held_searches_of_earlier_batches_as_late_rows():
    det = Detector(REF, load_policy("california"))
    batch = make_batch([{"ts": t, "plate": "EX1", "reason": "inv"} for t in days(12)])
    results = [det.process(batch.iloc[i:i + 3].reset_index(drop=True)) for i in range(0, 12, 3)]
    held = pd.concat([r.scores[r.held] for r in results])
    late = pd.concat([r.late for r in results])
    assert len(held) and sorted(late["search_id"]) == sorted(held["search_id"])  # every held search joined
    assert (held["score"] >= det.fusion.threshold).all() and not held["flagged"].any()
    alerts = {a.alert_id: a for r in results for a in r.alerts}
    (alert,) = alerts.values()
    final = pd.concat([r.scores[~r.held] for r in results] + [late])
    assert sorted(alert.search_ids) == sorted(final.loc[final["flagged"], "search_id"])
    assert (final.loc[final["flagged"], "alert_id"] == alert.alert_id).all()


def test_one_strong_search_opens_an_alert_alone():
    ctx, score, attr = _weak_episode(1)
    ids, touched, _ = Alerter(open_threshold=80.0).add(ctx, np.array([85.0]), attr, 60.0)
    assert ids[0] == touched[0].alert_id != ""


def test_an_episode_below_the_bar_is_forgotten_after_its_gap():
    ctx, score, attr = _weak_episode(2)
    alerter = Alerter(open_threshold=80.0)
    alerter.add(ctx.iloc[:1], score[:1], attr[:1], 60.0)
    later = ctx.iloc[1:].copy()
    later["t"] = later["t"] + 60 * NS_DAY  # longer than the gap of a person episode
    ids, _, late = alerter.add(later.reset_index(drop=True), score[1:], attr[1:], 60.0)
    assert ids.tolist() == [""] and late.empty  # the count started again: 70 alone is not enough


def test_an_informal_sharing_alert_states_the_whole_run_not_only_its_flagged_end():
    rows = [{"ts": t, "plate": f"TX{i}", "plate_state": "TX", "networks_searched": 1500}
            for i, t in enumerate(days(9, step="5min"))]
    res, alerts = run(rows)
    (rec,) = alerts.values()
    flagged = int(res.scores["flagged"].sum())
    assert rec["pattern"] == "informal_sharing" and 0 < flagged < 9  # the run's first lookups are no run yet
    assert "a run of about 9 nationwide lookups of plates unknown locally within hours" in rec["summary"]
    detail = next(s["detail"] for s in rec["signals"] if s["name"] == "informal_sharing")
    assert detail.endswith(f"{flagged} lookup{'s' if flagged > 1 else ''} of them in this alert")


def test_a_run_opens_no_alert_on_the_one_lookup_that_tips_it_over_the_bar():
    local = [{"ts": t, "plate": f"L{i}", "networks_searched": 2} for i, t in enumerate(days(10))]

    def far_run(n):
        return [{"ts": t, "plate": f"TX{i}", "plate_state": "TX", "networks_searched": 1500}
                for i, t in enumerate(days(n, start="2025-10-20T10:00:00Z", step="30min"))]

    edge, edge_alerts = run(local + far_run(5))
    assert edge.scores["score"].iloc[-1] >= OPEN_THRESHOLD and int(edge.scores["flagged"].sum()) == 0
    assert not edge_alerts
    _, alerts = run(local + far_run(6))
    assert [a["pattern"] for a in alerts.values()] == ["informal_sharing"]


def test_one_search_for_a_protected_purpose_without_a_case_opens_an_alert_under_any_policy():
    # the nationwide search for a woman who "had an abortion" was one search, by an agency of a
    # state with no policy pack: it must reach a reviewer alone
    for policy, reason in (("generic", "had an abortion"), ("generic", "ICE request"), ("california", "protest organizer")):
        det = Detector(REF, load_policy(policy))
        res = det.process(make_batch([{"ts": "2025-11-05T10:00:00Z", "plate": "AB1", "reason": reason, "networks_searched": 6800}]))
        assert res.scores["flagged"].tolist() == [True], (policy, reason, res.scores["score"].iloc[0])
        (alert,) = res.alerts
        assert alert.to_record()["severity"] in ("medium", "high", "critical")
