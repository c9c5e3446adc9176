"""The review workflow and who may do what: assign, dispose, export; the read-only auditor."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from dashboard_fixtures import PASSWORD, PLATE, button, dashboard_env, engine, log_rows, open_alert, open_app  # noqa: F401

from dashboard import auth, casefile, review
from dashboard.auth import Viewer
from dashboard.masking import Mask
from detector import store
from detector.explain import pseudonym


def alert_row(engine, alert_id: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(store.alerts).where(store.alerts.c.alert_id == alert_id)).mappings().one())


def decisions(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(store.dispositions.c.alert_id, store.dispositions.c.disposition,
                                                         store.dispositions.c.note, store.dispositions.c.reviewer))]


def test_assign_and_dispose_through_the_page(dashboard_env, engine):
    at = open_alert(open_app("rev"), "A1")
    at.selectbox[0].set_value("rev")
    button(at, "Assign").click().run()
    assert alert_row(engine, "A1")["assignee"] == "rev"
    assert at.metric[3].value == "rev"

    button(at, "Record disposition").click().run()  # no note
    assert at.error and decisions(engine) == []

    at.radio[0].set_value("confirmed_misuse")
    at.text_area[0].input("Officer admitted the plate belongs to his former partner; no case exists.")
    button(at, "Record disposition").click().run()
    assert not at.exception
    assert decisions(engine) == [("A1", "confirmed_misuse", "Officer admitted the plate belongs to his former partner; no case exists.",
                                  "rev")]
    assert alert_row(engine, "A1")["status"] == "confirmed_misuse"
    assert at.metric[2].value == "confirmed_misuse"
    actions = [(r["action"], r["alert_id"]) for r in log_rows(engine)]
    assert ("assign", "A1") in actions and ("disposition", "A1") in actions
    # decided, it leaves the default queue
    at.switch_page("views/queue.py").run()
    assert at.dataframe[0].value["alert_id"].tolist() == ["A2"]


def test_newest_disposition_is_the_status(dashboard_env, engine):
    rev = Viewer("rev", "reviewer")
    review.dispose(engine, rev, "A2", "needs_information", "asked the sheriff for the case file")
    review.dispose(engine, Viewer("sup", "supervisor"), "A2", "justified", "warrant 25-1234 covers the clinic area")
    assert alert_row(engine, "A2")["status"] == "justified"
    assert [d[1] for d in decisions(engine)] == ["needs_information", "justified"]
    with pytest.raises(review.ReviewError):
        review.dispose(engine, rev, "A2", "case_closed", "not a disposition")
    with pytest.raises(review.ReviewError):
        review.dispose(engine, rev, "NOPE", "justified", "no such alert")


def test_auditor_reads_but_cannot_decide_assign_or_export(dashboard_env, engine):
    at = open_alert(open_app("aud"), "A1")
    labels = [b.label for b in at.button]
    assert "Record disposition" not in labels and "Assign" not in labels and "Export case file" not in labels
    assert "read-only" in " ".join(c.value for c in at.caption)
    aud = Viewer("aud", "auditor")
    for call in (lambda: review.dispose(engine, aud, "A1", "justified", "looks fine"),
                 lambda: review.assign(engine, aud, "A1", "aud"),
                 lambda: casefile.export(engine, aud, "A1", casefile.maps.load_sites(None), Mask())):
        with pytest.raises(PermissionError):
            call()
    assert decisions(engine) == [] and alert_row(engine, "A1")["assignee"] is None
    assert not [r for r in log_rows(engine) if r["action"] in ("export", "assign", "disposition")]


def test_nobody_decides_an_alert_about_themselves(dashboard_env, engine):
    auth.add_account(dashboard_env["users"], "officer.jones", "reviewer", PASSWORD, rounds=4)
    at = open_alert(open_app("officer.jones"), "A1")
    at.text_area[0].input("nothing to see here")
    button(at, "Record disposition").click().run()
    assert "your own account" in at.error[0].value
    assert decisions(engine) == [] and alert_row(engine, "A1")["status"] == "open"


def test_export_builds_a_self_contained_case_file_and_logs_it(dashboard_env, engine):
    at = open_alert(open_app("rev"), "A1")
    assert not at.get("download_button")
    button(at, "Export case file").click().run()
    assert not at.exception and at.get("download_button")
    exports = [r for r in log_rows(engine) if r["action"] == "export"]
    assert [(e["username"], e["alert_id"], e["detail"]) for e in exports] == [("rev", "A1", "case file, masked")]

    html = casefile.export(engine, Viewer("sup", "supervisor"), "A1", casefile.maps.load_sites(dashboard_env["reference"]), Mask())
    assert not [tag for tag in ("<script", "<link", "src=", "href=", "@import") if tag in html]  # nothing fetched or run
    for section in ("Why it was flagged", "The account's habits", "raw audit rows", "Histories of the searched plates",
                    "Chain of custody", "<svg"):
        assert section in html
    assert PLATE not in html and "officer.jones" not in html and pseudonym(PLATE) in html
    assert html.count("case file, masked") == 2  # both exports are in the file's own trail
    revealed = casefile.export(engine, Viewer("sup", "supervisor"), "A1", casefile.maps.load_sites(None), Mask(revealed=True))
    assert PLATE in revealed and "officer.jones" in revealed and "identities revealed" in revealed


def test_case_file_escapes_free_text(dashboard_env, engine):
    with engine.begin() as conn:
        conn.execute(store.searches.update().where(store.searches.c.search_id == "e0")
                     .values(reason='<img src=x onerror="alert(1)"> & <script>x</script>'))
    html = casefile.export(engine, Viewer("rev", "reviewer"), "A1", casefile.maps.load_sites(None), Mask())
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<img" not in html


def stored_rules_now(engine) -> list:
    from detector.suppress import stored_rules

    with engine.connect() as conn:
        return stored_rules(conn)


def test_a_supervisor_suppresses_a_pattern_from_the_alert_and_revokes_it(dashboard_env, engine):
    at = open_alert(open_app("sup"), "A1")
    assert [e.label for e in at.expander if e.label == "Suppress this pattern"]
    button(at, "Suppress").click().run()  # no reason
    assert at.error and stored_rules_now(engine) == []
    reason = [t for t in at.text_area if t.label == "Reason"][0]
    reason.input("Officer Jones is assigned to watch this car under watch order W-3 (Lt. Ruiz)")
    [t for t in at.text_input if t.label == "Only under case number"][0].input("W-3")
    button(at, "Suppress").click().run()
    assert not at.exception
    rules = stored_rules_now(engine)
    assert len(rules) == 1
    rule = rules[0]
    assert dict(rule.scope) == {"user_id": "officer.jones", "agency": "Town PD", "case_number": "W-3"}
    assert rule.signals == ("repeat_plate",) and rule.reason.startswith("Officer Jones")
    assert ("suppress", "A1") in [(r["action"], r["alert_id"]) for r in log_rows(engine)]
    # the page lists it, and revoking ends it: still on the record, no longer in force from now
    listed = [d.value for d in at.dataframe if "rule_id" in d.value.columns][0]
    assert listed["rule_id"].tolist() == [rule.rule_id] and listed["revoked_at"].isna().all()
    button(at, "Revoke").click().run()
    assert not at.exception
    with engine.connect() as conn:
        row = conn.execute(sa.select(store.suppressions)).mappings().one()
    assert row["revoked_by"] == "sup" and row["revoked_at"] is not None
    assert ("revoke", None) in [(r["action"], r["alert_id"]) for r in log_rows(engine)]


def test_a_rule_can_cover_only_the_alerts_plate_which_pages_show_masked(dashboard_env, engine):
    from datetime import date, timedelta

    at = open_alert(open_app("sup"), "A1")
    [t for t in at.text_area if t.label == "Reason"][0].input("assigned to watch this car, watch order W-3")
    [c for c in at.checkbox if c.label.startswith("Only this alert's plate")][0].check()
    button(at, "Suppress").click().run()
    assert not at.exception
    [rule] = stored_rules_now(engine)
    assert dict(rule.scope) == {"user_id": "officer.jones", "agency": "Town PD", "plate": PLATE}
    listed = [d.value for d in at.dataframe if "rule_id" in d.value.columns][0]
    assert listed["plate"].tolist() == [pseudonym(PLATE)]
    at.switch_page("views/suppressions.py").run()
    assert at.dataframe[0].value["plate"].tolist() == [pseudonym(PLATE)]
    assert PLATE not in str(log_rows(engine))  # the access log names the rule, not the plate
    until = date.today() + timedelta(days=30)
    with pytest.raises(review.ReviewError, match="plate cannot be named"):  # an alert about no plate
        review.suppress(engine, Viewer("sup", "supervisor"), "A3", ["informal_sharing"], until, "because", {}, only_target=True)
    with engine.begin() as conn:  # a replay without --store-searches keeps no searches
        conn.execute(store.searches.delete())
    with pytest.raises(review.ReviewError, match="does not hold the alert's searches"):
        review.suppress(engine, Viewer("sup", "supervisor"), "A1", ["repeat_plate"], until, "because", {}, only_target=True)


def test_only_supervisors_suppress_and_never_for_their_own_account(dashboard_env, engine):
    from datetime import date, timedelta

    at = open_alert(open_app("rev"), "A1")
    assert not [e for e in at.expander if e.label == "Suppress this pattern"]
    until = date.today() + timedelta(days=30)
    with pytest.raises(PermissionError):
        review.suppress(engine, Viewer("rev", "reviewer"), "A1", ["repeat_plate"], until, "because", {})
    with pytest.raises(review.ReviewError, match="your own account"):
        review.suppress(engine, Viewer("officer.jones", "supervisor"), "A1", ["repeat_plate"], until, "because", {})
    with pytest.raises(review.ReviewError, match="unknown signal"):
        review.suppress(engine, Viewer("sup", "supervisor"), "A1", ["loud"], until, "because", {})
    with pytest.raises(review.ReviewError, match="at most 366 days"):
        review.suppress(engine, Viewer("sup", "supervisor"), "A1", ["repeat_plate"], date.today() + timedelta(days=400), "because", {})
    assert stored_rules_now(engine) == []


def test_every_role_reads_the_suppression_rules_with_names_masked(dashboard_env, engine):
    from datetime import date, timedelta

    rule = review.suppress(engine, Viewer("sup", "supervisor"), "A1", ["repeat_plate"], date.today() + timedelta(days=30),
                           "watch order W-3", {})
    gone = review.suppress(engine, Viewer("sup", "supervisor"), "A1", ["off_shift"], date.today() + timedelta(days=30),
                           "night shift this month", {})
    review.revoke(engine, Viewer("sup", "supervisor"), gone.rule_id)
    for name in ("rev", "sup", "aud"):
        at = open_app(name)
        at.switch_page("views/suppressions.py").run()
        assert not at.exception
        shown = at.dataframe[0].value
        assert shown["rule_id"].tolist() == [rule.rule_id]  # in force only, by default
        assert shown["user_id"].tolist() == [pseudonym("officer.jones", "user")]
        at.toggle[0].set_value(False).run()
        assert sorted(at.dataframe[0].value["rule_id"]) == sorted([rule.rule_id, gone.rule_id])
    assert ("view_suppressions", "aud") in [(r["action"], r["username"]) for r in log_rows(engine)]


def test_a_rules_files_rules_are_listed_for_every_role_and_revoked_only_in_the_file(dashboard_env, engine, tmp_path):
    from detector.suppress import load_suppressions, record_file_rules

    path = tmp_path / "rules.yaml"
    path.write_text("suppressions:\n  - {id: beat-7, reason: approved patrol, user_id: officer.jones, agency: Town PD, "
                    "signals: [repeat_plate], expires: 2099-12-31, starts: 2099-01-01}\n")
    with engine.begin() as conn:
        record_file_rules(conn, load_suppressions(path))
    at = open_app("rev")
    at.switch_page("views/suppressions.py").run()
    assert not at.exception
    listed = at.dataframe[0].value
    assert listed["rule_id"].tolist() == ["beat-7"] and listed["source"].tolist() == [str(path.resolve())]
    assert listed["applied_at"].notna().all()
    at = open_alert(open_app("sup"), "A1")
    listed = [d.value for d in at.dataframe if "rule_id" in d.value.columns][0]
    assert listed["rule_id"].tolist() == ["beat-7"]
    assert not [b for b in at.button if b.label == "Revoke"]  # nothing the dashboard can end
