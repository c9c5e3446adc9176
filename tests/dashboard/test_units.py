"""The dashboard's building blocks without Streamlit: accounts, masking, queries, the searches table, the CLI."""

from __future__ import annotations

import io
import os
import stat
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from dashboard_fixtures import EPISODE, PASSWORD, PLATE, any_engine, make_batch  # noqa: F401

from dashboard import auth, cli, queries
from dashboard.baseline import hour_ranges, peer_position, usual_hours
from dashboard.masking import REDACTED, Mask
from detector import store
from detector.cli import CliError, main
from detector.explain import pseudonym


def test_accounts_file_round_trip_and_password_checks(tmp_path):
    path = tmp_path / "users.toml"
    auth.add_account(path, "ia.smith", "supervisor", PASSWORD, email="Smith@Example.org", rounds=4)
    auth.add_account(path, "o.brien", "reviewer", PASSWORD, email='o"brien\\x@example.org', rounds=4)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    book = auth.AccountBook(path)
    assert book.verify("ia.smith", PASSWORD) == auth.Viewer("ia.smith", "supervisor")
    assert book.verify("ia.smith", "wrong password") is None and book.verify("nobody", PASSWORD) is None
    assert book.by_email("smith@example.org") == auth.Viewer("ia.smith", "supervisor")
    assert book.by_email("someone@example.org") is None
    assert book.by_email('o"brien\\x@example.org') == auth.Viewer("o.brien", "reviewer")
    with pytest.raises(ValueError, match="exists"):
        auth.add_account(path, "ia.smith", "auditor", PASSWORD, rounds=4)
    auth.add_account(path, "ia.smith", "auditor", PASSWORD, replace=True, rounds=4)
    assert book.current(auth.Viewer("ia.smith", "supervisor")) == auth.Viewer("ia.smith", "auditor")  # file re-read
    for bad in (("bad name", "reviewer", PASSWORD), ("x", "admin", PASSWORD), ("x", "reviewer", "short"),
                ("x", "reviewer", "é" * 40)):
        with pytest.raises(ValueError):
            auth.add_account(path, *bad, rounds=4)
    path.write_text('[[users]]\nusername = "a"\nrole = "root"\n')
    with pytest.raises(auth.UsersFileError, match="unknown role"):
        auth.load_accounts(path)


def test_roles():
    assert auth.Viewer("a", "auditor").can("view") and auth.Viewer("a", "auditor").can("reveal")
    assert not any(auth.Viewer("a", "auditor").can(x) for x in ("assign", "dispose", "export", "access_log"))
    assert not auth.Viewer("r", "reviewer").can("access_log") and auth.Viewer("s", "supervisor").can("access_log")
    with pytest.raises(PermissionError):
        auth.require(auth.Viewer("a", "auditor"), "dispose")


def test_throttle_locks_after_repeated_failures():
    gate = auth.Throttle(limit=3, window=60)
    for _ in range(3):
        assert not gate.locked("x")
        gate.failed("x")
    assert gate.locked("x") and not gate.locked("y")
    gate.succeeded("x")
    assert not gate.locked("x")


def test_mask():
    masked, shown = Mask(), Mask(revealed=True)
    assert masked.plate(PLATE) == pseudonym(PLATE) and shown.plate(PLATE) == PLATE
    assert masked.user("") == REDACTED and masked.user("u1") == pseudonym("u1", "user")
    assert masked.plate("***") == shown.plate("***") == "***"  # withheld by the log: no pseudonym reads as one plate
    summary = f"User u1 (PD) looked up {pseudonym(PLATE)} 5 times between 2025-10-01 and 2025-10-11: review."
    assert masked.summary(summary, "u1", [PLATE]) == summary.replace("User u1", f"User {pseudonym('u1', 'user')}")
    assert shown.summary(summary, "u1", [PLATE]) == summary.replace(pseudonym(PLATE), PLATE)
    assert masked.summary("User 1 (PD) on 2025-10-01", "1") == f"User {pseudonym('1', 'user')} (PD) on 2025-10-01"
    assert masked.text("check 7abc123 and X7ABC1234", [PLATE]) == f"check {pseudonym(PLATE)} and X7ABC1234"


def test_baseline_helpers():
    ts = pd.Series(pd.to_datetime(["2025-01-01 09:10"] * 15 + ["2025-01-01 10:00"] * 10 + ["2025-01-01 23:00"], utc=True))
    assert usual_hours(ts) == [9, 10, 23] and usual_hours(ts[:5]) == []
    assert hour_ranges([22, 23, 0, 1, 7]) == "00-02h, 07-08h, 22-24h"
    peers = pd.DataFrame({"user_id": ["a", "b", "c", "d"], "searches": [10, 20, 30, 40]})
    assert peer_position(peers, "c") == (30, 2 / 3, 20.0)


def test_save_searches_stores_canonical_rows_with_nulls_and_upserts(tmp_path):
    eng = store.open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    batch = make_batch([
        {"search_id": "a", "ts": "2025-10-01T10:00:00Z", "user_id": "u1", "agency": "PD", "plate": "ab-1", "lat": 34.1,
         "lon": -118.2, "radius_m": 100, "networks_searched": 3, "window_start": "2025-09-01T00:00:00Z"},
        {"search_id": "b", "ts": "2025-10-01T11:00:00Z", "user_id": "***", "agency": "PD"},
    ])
    with eng.begin() as conn:
        store.save_searches(conn, batch)
        store.save_searches(conn, batch.assign(reason=["again", ""]))
    with eng.connect() as conn:
        rows = {r["search_id"]: r for r in conn.execute(sa.select(store.searches)).mappings()}
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("searches")}
    assert rows["a"]["plate"] == "AB1" and rows["a"]["networks_searched"] == 3 and rows["a"]["reason"] == "again"
    assert rows["a"]["window_start"].year == 2025 and rows["a"]["window_end"] is None
    assert rows["b"]["user_id"] == "" and rows["b"]["plate"] is None and rows["b"]["lat"] is None
    assert {"ix_searches_user_ts", "ix_searches_plate_ts", "ix_searches_agency_ts", "ix_searches_ts"} <= indexes


def test_queue_pages_and_counts(any_engine):
    with any_engine.connect() as conn:
        first, total = queries.queue_page(conn, queries.QueueFilter(statuses=()), "score", 0, 2)
        second, _ = queries.queue_page(conn, queries.QueueFilter(statuses=()), "score", 1, 2)
        severity, _ = queries.queue_page(conn, queries.QueueFilter(statuses=()), "severity", 0, 10)
        later, n_later = queries.queue_page(conn, queries.QueueFilter(statuses=(), start=date(2025, 10, 26)), "score", 0, 10)
    assert total == 3 and first["alert_id"].tolist() == ["A2", "A1"] and second["alert_id"].tolist() == ["A3"]
    assert severity["alert_id"].tolist() == ["A2", "A1", "A3"]
    assert later["alert_id"].tolist() == ["A2"] and n_later == 1  # only A2 is still active on the 26th
    assert first.loc[0, "signals"] == "sensitive_site" and str(first.loc[0, "first_ts"].tz) == "UTC"


def test_a_withheld_plate_has_no_history(any_engine):
    """``***`` searches are of any number of plates: none of them is a plate's history."""
    withheld = make_batch([{"search_id": f"w{i}", "ts": EPISODE.isoformat(), "user_id": f"x{i}", "agency": "Town PD", "plate": "***"}
                           for i in range(3)])
    with any_engine.begin() as conn:
        store.save_searches(conn, withheld)
        assert (queries.plate_histories(conn, ["***", PLATE])["plate"] == PLATE).all()
        assert len(queries.plate_histories(conn, ["***"])) == 0


def test_plate_histories_and_signal_counts(any_engine):
    with any_engine.connect() as conn:
        h = queries.plate_histories(conn, [PLATE])
        signals = queries.signal_counts(conn, queries.Period())
        only_later = queries.signal_counts(conn, queries.Period(start=EPISODE.date().replace(day=28)))
        by_day = queries.alerts_by_day(conn, queries.Period())
        origins, home = queries.classify_origins(queries.search_origins(conn, queries.Period()), None)
    assert by_day["alerts"].sum() == 3 and home == "CA"
    assert origins.groupby("origin")["searches"].sum().to_dict() == {"federal": 5, "in-state": 281}
    assert sorted(zip(h["user_id"], h["searches"])) == [("officer.jones", 6), ("officer.smith", 1)]
    assert dict(zip(signals["signal"], signals["alerts"]))["repeat_plate"] == 1 and len(signals) == 6
    assert only_later.empty


def test_store_url_and_dashboard_user_cli(tmp_path, monkeypatch, capsys):
    with pytest.raises(CliError, match="no alert store"):
        cli.store_url(str(tmp_path / "missing.sqlite"))
    (tmp_path / "a.sqlite").touch()
    assert cli.store_url(str(tmp_path / "a.sqlite")) == f"sqlite:///{tmp_path / 'a.sqlite'}"
    assert cli.store_url("postgresql://ia@db/alerts") == "postgresql://ia@db/alerts"
    users = tmp_path / "users.toml"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["dashboard-user", "add", "ia.lee", "--role", "auditor", "--password-stdin", "--users", str(users)]) == 0
    assert auth.AccountBook(users).verify("ia.lee", PASSWORD) == auth.Viewer("ia.lee", "auditor")
    assert main(["dashboard-user", "list", "--users", str(users)]) == 0
    assert "ia.lee\tauditor" in capsys.readouterr().out
    assert main(["dashboard-user", "remove", "ia.nobody", "--users", str(users)]) == 2
    assert main(["dashboard", "--store", str(tmp_path / "a.sqlite"), "--users", str(tmp_path / "none.toml")]) == 2
    assert "no users file" in capsys.readouterr().err
