"""Suppression rules: scoped to what they name, in force only between their start and expiry."""

import textwrap

import pytest

from batches import REF, days, make_batch
from detector.cli import main
from detector.engine import Detector
from detector.policy import load_policy
from detector.rules import SIGNAL_INDEX
from detector.suppress import load_suppressions
from detector.validate import InputError

CLINIC = {"search_type": "area", "lat": 37.77, "lon": -122.42, "radius_m": 100, "plate": ""}


def rules(tmp_path, text):
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def clinic_log(tmp_path):
    """A dataset directory: six daily area searches around the clinic, and the sites."""
    data = tmp_path / "data"
    data.mkdir()
    make_batch([dict(CLINIC, ts=t) for t in days(6)]).to_csv(data / "searches.csv", index=False)
    REF.sites.to_csv(data / "sites.csv", index=False)
    return data


def strengths(rows, suppressions=None, signal="sensitive_site"):
    det = Detector(REF, load_policy("california"), suppressions=suppressions)
    return det.process(make_batch(rows)).signals[:, SIGNAL_INDEX[signal]], det


def test_a_rule_silences_its_signals_for_its_scope_only(tmp_path):
    rows = [dict(CLINIC, ts=t, user_id=u) for t in days(5) for u in ("u1", "u2")]
    suppressions = load_suppressions(rules(tmp_path, """
        suppressions:
          - id: beat-7
            reason: beat 7 patrols pass the clinic
            user_id: u1
            agency: Town PD
            signals: [sensitive_site]
            expires: 2025-12-31
    """))
    plain, _ = strengths(rows)
    ruled, det = strengths(rows, suppressions)
    u1 = [i for i, r in enumerate(rows) if r["user_id"] == "u1"]
    u2 = [i for i, r in enumerate(rows) if r["user_id"] == "u2"]
    assert plain[u1].max() > 0.9 and plain[u2].max() > 0.9
    assert ruled[u1].max() == 0
    assert ruled[u2].tolist() == plain[u2].tolist()
    assert det.suppressions.hits["beat-7"] == len(u1)
    assert det.suppressions.lines() == [f"suppression rule beat-7: {len(u1)} searches (sensitive_site; beat 7 patrols pass the clinic)"]


def test_a_rule_is_in_force_from_its_start_until_the_end_of_its_expiry_day(tmp_path):
    rows = [dict(CLINIC, ts=t) for t in days(10, start="2025-10-01T10:00:00Z")]  # 1 to 10 October
    suppressions = load_suppressions(rules(tmp_path, """
        suppressions:
          - {id: r, reason: approved, agency: Town PD, signals: [sensitive_site], starts: 2025-10-03, expires: 2025-10-05}
    """))
    plain, _ = strengths(rows)
    ruled, _ = strengths(rows, suppressions)
    silenced = [i for i in range(10) if ruled[i] != plain[i]]
    assert silenced == [i for i in (2, 3, 4) if plain[i] > 0]  # the 3rd, 4th and 5th of October
    assert ruled[5:].tolist() == plain[5:].tolist()


def test_plate_and_case_scopes_and_all_signals(tmp_path):
    stalk = [{"ts": t, "plate": "EX1", "reason": "inv", "case_number": "OP-7" if i % 2 else ""} for i, t in enumerate(days(12))]
    by_plate = load_suppressions(rules(tmp_path, """
        suppressions:
          - {id: p, reason: assigned, plate: "ex-1", signals: all, expires: 2026-01-31}
    """))
    by_case = load_suppressions(rules(tmp_path, """
        suppressions:
          - {id: c, reason: sanctioned operation, case_number: OP-7, signals: [repeat_plate], expires: 2026-01-31}
    """))
    plain, _ = strengths(stalk, signal="repeat_plate")
    det = Detector(REF, load_policy("california"), suppressions=by_plate)
    assert det.process(make_batch(stalk)).signals.max() == 0  # every signal, on the normalised plate
    case, _ = strengths(stalk, by_case, signal="repeat_plate")
    assert case[1::2].max() == 0 and case[0::2].tolist() == plain[0::2].tolist()


@pytest.mark.parametrize("text, message", [
    ("suppressions:\n  - {id: a, reason: r, agency: X, signals: [sensitive_site]}\n", "rule 1: field 'expires' is required"),
    ("suppressions:\n  - {id: a, reason: r, agency: X, signals: [loud], expires: 2025-12-31}\n", "rule 1 (a): field 'signals': unknown signal(s) loud"),
    ("suppressions:\n  - {id: a, reason: r, signals: all, expires: 2025-12-31}\n", "rule 1 (a): no scope"),
    ("suppressions:\n  - {id: a, reason: r, agency: X, signals: all, starts: 2025-01-01, expires: 2026-06-30}\n",
     "rule 1 (a): field 'expires': a rule lasts at most 366 days"),
    ("suppressions:\n  - {id: a, reason: r, agency: X, signals: all, expires: soon}\n", "rule 1 (a): field 'expires': expected a date"),
    ("suppressions:\n  - {id: a, reason: r, agency: X, signals: all, expires: 2025-12-31, until: x}\n", "rule 1: unknown field(s) until"),
    ("suppressions:\n  - {id: a, reason: r, agency: X, signals: all, expires: 2025-12-31}\n"
     "  - {id: a, reason: r, agency: Y, signals: all, expires: 2025-12-31}\n", "rule 2: field 'id': 'a' is used by an earlier rule"),
    ("rules: []\n", "expected a list under 'suppressions:'"),
])
def test_a_bad_rule_is_named_with_its_file_number_and_field(tmp_path, text, message):
    path = rules(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_suppressions(path)
    assert str(err.value).startswith(str(path)) and message in str(err.value)


def test_replay_applies_the_rules_and_reports_them(tmp_path, capsys):
    data = clinic_log(tmp_path)
    assert main(["replay", str(data), "--out", str(tmp_path / "plain"), "--no-model", "--no-progress"]) == 0
    assert (tmp_path / "plain" / "alerts.jsonl").read_text() != ""  # without the rule, the clinic searches alert
    good = rules(tmp_path, "suppressions:\n  - {id: beat, reason: patrol, agency: Town PD, signals: [sensitive_site], expires: 2025-12-31}\n")
    report = tmp_path / "report.html"
    assert main(["replay", str(data), "--out", str(tmp_path / "out"), "--no-model", "--no-progress", "--suppressions", str(good),
                 "--report", str(report)]) == 0
    assert "suppression rule beat: 6 searches (sensitive_site; patrol)" in capsys.readouterr().out
    assert "Suppression rules applied" in report.read_text() and "suppression rule beat: 6 searches" in report.read_text()
    assert (tmp_path / "out" / "alerts.jsonl").read_text() == ""
    bad = rules(tmp_path, "suppressions:\n  - {id: beat, reason: patrol, signals: all, expires: 2025-12-31}\n")
    assert main(["replay", str(data), "--out", str(tmp_path / "out2"), "--suppressions", str(bad)]) == 2
    assert "rules.yaml: rule 1 (beat): no scope" in capsys.readouterr().err


def test_rules_kept_in_the_store_apply_to_a_replay_on_it_until_their_revocation(tmp_path, capsys):
    from datetime import datetime, timezone

    import pandas as pd
    import sqlalchemy as sa

    from detector import store
    from detector.suppress import parse_rule, save_rule, stored_rules

    data = clinic_log(tmp_path)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = store.open_store(url)
    entry = {"id": "dash-1", "reason": "patrol", "agency": "Town PD", "signals": ["sensitive_site"],
             "starts": "2025-09-01", "expires": "2025-12-31"}
    with engine.begin() as conn:
        save_rule(conn, parse_rule(entry, "test"), "sup", "A1")
    assert main(["replay", str(data), "--out", str(tmp_path / "out"), "--no-model", "--no-progress", "--store", url]) == 0
    assert "suppression rule dash-1: 6 searches" in capsys.readouterr().out
    assert (tmp_path / "out" / "alerts.jsonl").read_text() == ""
    # revoked on 3 October: in force before, not after, on a replay of the same days
    with engine.begin() as conn:
        conn.execute(store.suppressions.update().values(revoked_by="sup", revoked_at=datetime(2025, 10, 3, tzinfo=timezone.utc)))
        [rule] = stored_rules(conn)
    assert rule.expires_ns == pd.Timestamp("2025-10-03T00:00:00Z").value
    assert main(["replay", str(data), "--out", str(tmp_path / "again"), "--no-model", "--no-progress", "--store", url]) == 0
    assert "suppression rule dash-1: 2 searches" in capsys.readouterr().out
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.suppressions)).scalar() == 1
    engine.dispose()


def test_the_stores_rules_are_taken_up_again_in_place_of_the_earlier_ones(tmp_path):
    from dataclasses import replace

    from detector.suppress import parse_rule

    def rule(rule_id, user):
        return parse_rule({"id": rule_id, "reason": "r", "user_id": user, "signals": "all", "expires": "2025-12-31"}, "test")

    filed = load_suppressions(rules(tmp_path, """\
        suppressions:
          - {id: file-1, reason: r, user_id: u1, signals: all, expires: 2025-12-31}
    """))
    assert filed.take_stored([rule("dash-1", "u2")]) == (1, 0)
    _, det = strengths([dict(CLINIC, ts=t, user_id=u) for t in days(3) for u in ("u1", "u2")], filed)
    assert filed.hits == {"file-1": 3, "dash-1": 3}
    # the next reading: dash-1 revoked (its expiry moved), dash-2 written; the file's rule stays
    revoked = replace(rule("dash-1", "u2"), expires_ns=rule("dash-1", "u2").starts_ns + 1)
    assert filed.take_stored([revoked, rule("dash-2", "u3")]) == (2, 1)
    assert [r.rule_id for r in filed.rules] == ["file-1", "dash-1", "dash-2"] and filed.rules[1] == revoked
    assert filed.take_stored([rule("dash-2", "u3")]) == (0, 1)
    assert [r.rule_id for r in filed.rules] == ["file-1", "dash-2"]
    assert filed.lines()[-1].startswith("suppression rule dash-1: 3 searches") and "taken out of the store" in filed.lines()[-1]
    with pytest.raises(InputError, match="file-1 used both"):
        filed.take_stored([rule("file-1", "u4")])
    assert [r.rule_id for r in filed.rules] == ["file-1", "dash-2"]  # a refused reading changes nothing


def test_a_rules_files_rules_are_listed_in_the_store_but_applied_only_from_the_file(tmp_path, capsys):
    import json

    import sqlalchemy as sa

    from detector import store
    from detector.suppress import revoke_rule, stored_rules

    data = clinic_log(tmp_path)
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    path = rules(tmp_path, "suppressions:\n  - {id: beat, reason: patrol, agency: Town PD, signals: [sensitive_site], expires: 2025-12-31}\n")
    assert main(["replay", str(data), "--out", str(tmp_path / "out"), "--no-model", "--no-progress", "--store", url,
                 "--suppressions", str(path)]) == 0
    engine = store.open_store(url)
    with engine.connect() as conn:
        [row] = conn.execute(sa.select(store.suppressions)).mappings().all()
        assert stored_rules(conn) == []  # a run without the file does not apply it
    assert row["rule_id"] == "beat" and row["source"] == str(path.resolve()) and row["applied_at"] is not None
    assert json.loads(row["rule"])["reason"] == "patrol"
    # the file changes: the store lists the rule as it now reads, once
    path = rules(tmp_path, "suppressions:\n  - {id: beat, reason: patrol (IA-7), agency: Town PD, signals: all, expires: 2025-12-31}\n")
    assert main(["replay", str(data), "--out", str(tmp_path / "again"), "--no-model", "--no-progress", "--store", url,
                 "--suppressions", str(path)]) == 0
    assert "suppression rule beat: 6 searches" in capsys.readouterr().out
    with engine.begin() as conn:
        [row] = conn.execute(sa.select(store.suppressions)).mappings().all()
        assert json.loads(row["rule"])["reason"] == "patrol (IA-7)"
        assert not revoke_rule(conn, "beat", "sup")  # it ends in its file, not in the dashboard
    engine.dispose()
