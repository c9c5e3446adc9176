"""Replay end to end on a small synthetic world: outputs in exactly the form of spec section 5."""

import json

import pandas as pd
import pytest
import sqlalchemy as sa

from detector import store
from detector.cli import main
from detector.schema import SEVERITIES
from synthetic import generate


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("replay")
    generate(days=20, seed=5, searches=20_000).write(root / "data")
    assert main(["replay", str(root / "data"), "--out", str(root / "out"), "--no-progress", "--store-searches"]) == 0
    return root


def test_scores_have_one_row_per_search_in_spec_form(run):
    scores = pd.read_csv(run / "out" / "scores.csv", dtype=str, keep_default_na=False)
    searches = pd.read_csv(run / "data" / "searches.csv", dtype=str, keep_default_na=False)
    assert scores.columns.tolist() == ["search_id", "score", "flagged", "alert_id"]
    assert sorted(scores["search_id"]) == sorted(searches["search_id"])
    values = scores["score"].astype(float)
    assert values.between(0, 100).all()
    assert set(scores["flagged"]) <= {"true", "false"}
    flagged = scores["flagged"] == "true"
    assert (scores.loc[flagged, "alert_id"] != "").all() and (scores.loc[~flagged, "alert_id"] == "").all()


def test_alerts_are_episodes_in_spec_form(run):
    lines = (run / "out" / "alerts.jsonl").read_text().splitlines()
    alerts = [json.loads(line) for line in lines]
    assert alerts, "a synthetic world with misuse yields alerts"
    scores = pd.read_csv(run / "out" / "scores.csv", dtype=str, keep_default_na=False)
    by_alert = scores[scores["alert_id"] != ""].groupby("alert_id")["search_id"].apply(set).to_dict()
    for a in alerts:
        for key in ("alert_id", "severity", "score", "user_id", "agency", "first_ts", "last_ts", "search_ids", "signals", "summary"):
            assert key in a
        assert a["severity"] in SEVERITIES and 0 <= a["score"] <= 100
        assert pd.Timestamp(a["first_ts"]) <= pd.Timestamp(a["last_ts"])
        assert set(a["search_ids"]) == by_alert[a["alert_id"]]
        assert all({"name", "weight", "detail"} <= set(s) for s in a["signals"])
        assert a["summary"].endswith(".")


def test_store_holds_the_alerts_and_searches(run):
    engine = store.open_store(f"sqlite:///{run / 'out' / 'alerts.sqlite'}")
    stored = {a["alert_id"] for a in store.load_alerts(engine)}
    with engine.connect() as conn:
        n_searches = conn.execute(sa.select(sa.func.count()).select_from(store.searches)).scalar()
    engine.dispose()
    assert stored == {json.loads(line)["alert_id"] for line in (run / "out" / "alerts.jsonl").read_text().splitlines()}
    assert n_searches == 20_000


def test_evaluate_prints_and_writes_quality(run, capsys):
    data = run / "data"
    assert main(["evaluate", "--labels", str(data / "labels.csv"), "--results", str(run / "out"), "--json", str(run / "q.json")]) == 0
    out = capsys.readouterr().out
    assert "alert precision" in out and "stalking" in out
    q = json.loads((run / "q.json").read_text())
    assert {s["scenario"] for s in q["scenarios"]} == set(pd.read_csv(data / "labels.csv")["scenario"])
    assert 0 < q["flagged_fraction"] < 0.05 and q["incident_recall"] > 0.5


def test_bad_input_is_a_clear_cli_error(tmp_path, capsys):
    (tmp_path / "searches.csv").write_text("search_id,user_id\n1,u\n")
    assert main(["replay", str(tmp_path), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    assert "missing required column(s) 'ts'" in capsys.readouterr().err


def test_json_lines_with_a_value_missing_from_a_mixed_column_are_not_rejected(tmp_path):
    from detector.validate import RejectCounter
    from streams.sources import open_searches

    base = {"ts": "2025-10-01T10:00:00Z", "user_id": "u1", "agency": "Town PD", "plate": "AB1"}
    lines = [dict(base, search_id="a", networks_searched="12"), dict(base, search_id="b"),
             dict(base, search_id="c", networks_searched=3)]
    path = tmp_path / "searches.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    rejects = RejectCounter()
    batch = pd.concat(list(open_searches(path, rejects)))
    assert rejects.items == []
    networks = batch.set_index("search_id")["networks_searched"]
    assert networks.isna().tolist() == [False, True, False]
    assert networks.dropna().tolist() == [12, 3]


def test_the_summary_says_what_the_data_lacks_and_what_that_costs(tmp_path):
    from streams.replay import replay

    generate(days=7, seed=3, searches=8_000).write(tmp_path / "full")
    full = replay(tmp_path / "full", tmp_path / "out-full", progress=False, retrospective=False)
    assert full.gaps() == []
    lean = tmp_path / "lean"
    lean.mkdir()
    for name in ("sites", "relations", "agencies", "users"):
        (lean / f"{name}.csv").write_bytes((tmp_path / "full" / f"{name}.csv").read_bytes())
    searches = pd.read_csv(tmp_path / "full" / "searches.csv", dtype=str, keep_default_na=False)
    searches.assign(case_number="").to_csv(lean / "searches.csv", index=False)
    gaps = replay(lean, tmp_path / "out-lean", progress=False, retrospective=False).gaps()
    assert len(gaps) == 2
    assert gaps[0].startswith("no vehicles.csv: no household, family or same-surname lookups")
    assert gaps[1].startswith("note: no search carries a case number")
    # a field that holds only placeholders names no case either
    searches.assign(case_number="N/A").to_csv(lean / "searches.csv", index=False)
    gaps = replay(lean, tmp_path / "out-placeholder", progress=False, retrospective=False).gaps()
    assert gaps[1].startswith("note: no search carries a case number")
    # reasons and offense types: a reason or an offense type anywhere is one
    searches.assign(reason="", offense_type="").to_csv(lean / "searches.csv", index=False)
    gaps = replay(lean, tmp_path / "out-unstated", progress=False, retrospective=False).gaps()
    assert len(gaps) == 2 and gaps[1].startswith("note: no search states a reason or an offense type")
    searches.loc[[5], "offense_type"] = "Theft"
    searches.assign(reason="").to_csv(lean / "searches.csv", index=False)
    assert len(replay(lean, tmp_path / "out-one-stated", progress=False, retrospective=False).gaps()) == 1
    searches.assign(user_id="***").to_csv(lean / "searches.csv", index=False)
    gaps = replay(lean, tmp_path / "out-withheld", progress=False, retrospective=False).gaps()
    assert len(gaps) == 2 and gaps[1].startswith("note: no search names its officer")
