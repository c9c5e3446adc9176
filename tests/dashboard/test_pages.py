"""Every page through Streamlit's AppTest, with a hand-made store: what is shown, masked and logged."""

from __future__ import annotations

from dashboard_fixtures import (CLINIC, PLATE, button, dashboard_env, engine, log_rows, login, open_alert, open_app,  # noqa: F401
                                page_text)

from detector.explain import pseudonym


def test_nothing_but_the_sign_in_form_without_an_account(dashboard_env, engine):
    at = open_app()
    assert [t.value for t in at.title] == ["alpr-watch: internal affairs"]
    assert not at.dataframe and "A1" not in page_text(at)
    with __import__("pytest").raises(ValueError):
        at.switch_page("views/queue.py")  # not even registered before sign-in
    login(at, "rev", "wrong password!")
    assert at.error and not at.dataframe
    login(at, "rev")
    assert at.title[0].value == "Alert queue"
    assert [(r["username"], r["action"]) for r in log_rows(engine)][:2] == [("rev", "login_failed"), ("rev", "login")]


def test_queue_lists_actionable_alerts_masked_and_logs_the_view(dashboard_env, engine):
    at = open_app("rev")
    table = at.dataframe[0].value
    assert table["alert_id"].tolist() == ["A2", "A1"]  # by score; A3 is decided already
    text = page_text(at)
    assert "officer.jones" not in text and "deputy.k" not in text
    assert pseudonym("officer.jones", "user") in table["user"].tolist()
    assert table.set_index("alert_id").loc["A1", "summary"].startswith(f"User {pseudonym('officer.jones', 'user')} (Town PD)")
    views = [r for r in log_rows(engine) if r["action"] == "view_queue"]
    assert len(views) == 1 and "statuses=open,needs_information" in views[0]["detail"]


def test_queue_filters_and_sorts(dashboard_env):
    at = open_app("rev")
    at.multiselect(key="q_status").set_value([]).run()
    assert at.dataframe[0].value["alert_id"].tolist() == ["A2", "A1", "A3"]
    at.multiselect(key="q_signal").set_value(["protected_reason"]).run()
    assert at.dataframe[0].value["alert_id"].tolist() == ["A3"]
    at.multiselect(key="q_signal").set_value([]).run()
    at.multiselect(key="q_severity").set_value(["high", "medium"]).run()
    at.selectbox(key="q_sort").set_value("oldest").run()
    assert at.dataframe[0].value["alert_id"].tolist() == ["A1", "A3"]
    at.multiselect(key="q_agency").set_value(["[Federal] HSI"]).run()
    assert at.dataframe[0].value["alert_id"].tolist() == ["A3"]
    at.selectbox(key="q_assignee").set_value("me").run()
    assert at.dataframe[0].value.empty


def test_selecting_a_row_opens_the_alert(dashboard_env, engine):
    at = open_app("rev")
    at.session_state["queue_table"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert at.title[0].value == "Alert A1" and at.query_params["alert"] == "A1"
    views = [r for r in log_rows(engine) if r["action"] == "view_alert"]
    assert [(v["username"], v["alert_id"]) for v in views] == [("rev", "A1")]


def test_detail_shows_the_evidence_masked(dashboard_env):
    at = open_alert(open_app("rev"), "A1")
    text = page_text(at)
    assert PLATE not in text and "officer.jones" not in text and "officer.smith" not in text
    assert pseudonym(PLATE) in text
    assert f"check {pseudonym(PLATE)}" in text  # the plate quoted in a stated reason is masked too
    tables = {tuple(d.value.columns)[:3]: d.value for d in at.dataframe}
    signals = next(t for k, t in tables.items() if k[0] == "title")
    assert signals["name"].tolist() == ["repeat_plate", "off_shift", "no_case_number"]
    histories = next(t for k, t in tables.items() if k[0] == "plate")
    assert sorted(histories["who"]) == ["other user", "this user"]
    assert histories.set_index("who").loc["other user", "with_case"] == 1
    rows = next(t for k, t in tables.items() if k[0] == "ts")
    assert len(rows) == 6 and set(rows["plate"]) == {pseudonym(PLATE)}
    habits = next(t for k, t in tables.items() if k[0] == "habit").set_index("habit")["value"]
    assert habits["Usual hours (UTC)"] == "10-11h, 12-13h, 14-15h" and habits["With a case number"] == "100%"
    assert len(at.get("vega_lite_chart")) == 2  # timeline, hour profile


def test_detail_map_shows_searched_areas_and_nearby_sites(dashboard_env):
    at = open_alert(open_app("rev"), "A2")
    deck = at.get("deck_gl_json_chart")[0].proto.json
    assert "Valley Clinic" in deck and "Far School" not in deck and str(CLINIC[0]) in deck
    sites = next(d.value for d in at.dataframe if "distance_m" in d.value.columns)
    assert sites["name"].tolist() == ["Valley Clinic"]
    assert '"mapStyle": "__MAP_STYLE__"' in deck and 'mapProvider' not in deck  # no basemap: no tile server learns the place


def test_reveal_needs_a_reason_and_is_logged(dashboard_env, engine):
    at = open_alert(open_app("rev"), "A1")
    at.text_input(key="reveal_reason_alert:A1").input("too short")
    button(at, "Reveal").click().run()
    assert at.error and PLATE not in page_text(at)
    assert not [r for r in log_rows(engine) if r["action"] == "reveal"]
    at.text_input(key="reveal_reason_alert:A1").input("interview with the officer on Monday")
    button(at, "Reveal").click().run()
    text = page_text(at)
    assert PLATE in text and "officer.jones" in text and "officer.smith" in text
    assert "User officer.jones (Town PD) looked up 7ABC123" in text
    reveals = [r for r in log_rows(engine) if r["action"] == "reveal"]
    assert [(r["username"], r["alert_id"], r["detail"]) for r in reveals] == [
        ("rev", "A1", "alert A1: interview with the officer on Monday")]
    at = open_alert(at, "A2")  # a reveal holds for its alert only
    assert "deputy.k" not in page_text(at)


def test_user_page_from_an_alert(dashboard_env, engine):
    at = open_alert(open_app("rev"), "A1")
    button(at, "Open the user's page").click().run()
    assert not at.exception
    assert at.title[0].value == "User"
    text = page_text(at)
    assert "officer.jones" not in text and pseudonym("officer.jones", "user") in text
    assert "more than 100% of the other 1 account(s) of Town PD" in text
    past = next(d.value for d in at.dataframe if "alert_id" in d.value.columns)
    assert past["alert_id"].tolist() == ["A1"]
    views = [r for r in log_rows(engine) if r["action"] == "view_user"]
    assert [v["detail"] for v in views] == [f"{pseudonym('officer.jones', 'user')} (Town PD)"]
    at.switch_page("views/user.py")  # AppTest would otherwise rerun the page it was last switched to
    at.text_input(key="reveal_reason_user:Town PD|officer.jones").input("preparing the interview")
    button(at, "Reveal").click().run()
    assert "officer.jones" in page_text(at)
    reveals = [(r["alert_id"], r["detail"]) for r in log_rows(engine) if r["action"] == "reveal"]
    assert reveals == [(None, f"user {pseudonym('officer.jones', 'user')} (Town PD): preparing the interview")]


def test_overview_counts_alerts_and_search_origins(dashboard_env, engine):
    at = open_app("aud")
    at.switch_page("views/overview.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Alerts"] == "3"
    assert metrics["Searches"] == "286"
    assert metrics["Federal agencies"] == f"{5 / 286:.1%}"
    assert metrics["Out of state (home: CA)"] == "0.0%"
    assert "informal_sharing" in page_text(at) or "informal sharing" in page_text(at)
    assert [r["action"] for r in log_rows(engine)][-1] == "view_overview"


def test_access_log_is_for_supervisors_only(dashboard_env, engine):
    for name in ("rev", "aud"):
        at = open_app(name)
        with __import__("pytest").raises(ValueError):
            at.switch_page("views/access_log.py")
    at = open_app("sup")
    at.switch_page("views/access_log.py").run()
    assert not at.exception and at.title[0].value == "Access log"
    log = at.dataframe[0].value
    assert {"rev", "aud", "sup"} <= set(log["username"])
    assert log["action"].iloc[0] == "view_access_log"
    at.multiselect(key="l_actions").set_value(["login"]).run()
    assert set(at.dataframe[0].value["action"]) == {"login"}


def test_removing_an_account_ends_its_session(dashboard_env):
    from dashboard import auth

    at = open_app("rev")
    auth.remove_account(dashboard_env["users"], "rev")
    at.run()
    assert not at.dataframe and at.text_input(key="login_username")


SSO = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32, "client_id": "dash",
                "client_secret": "x", "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration"}}


def test_single_sign_on_maps_to_an_account_of_the_users_file(dashboard_env, engine):
    from streamlit.testing.v1 import AppTest

    from dashboard import auth
    from dashboard_fixtures import APP, PASSWORD

    assert "single sign-on" not in page_text(open_app())  # not offered unless configured
    auth.add_account(dashboard_env["users"], "sup", "supervisor", PASSWORD, email="Chief@Example.org", replace=True, rounds=4)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets = SSO
    at.user = {"is_logged_in": True, "email": "chief@example.org"}
    at.run()
    assert not at.exception and at.title[0].value == "Alert queue"
    assert "Signed in as **sup** (supervisor)" in page_text(at)
    assert ("sup", "login", "single sign-on") in [(r["username"], r["action"], r["detail"]) for r in log_rows(engine)]

    stranger = AppTest.from_file(str(APP), default_timeout=60)
    stranger.secrets = SSO
    stranger.user = {"is_logged_in": True, "email": "someone@example.org"}
    stranger.run()
    assert not stranger.dataframe and "has no dashboard role" in stranger.error[0].value
