"""A small alert store and users file for the dashboard tests, built with the store's own writers.

Test modules import the fixtures from here (there is no conftest.py in this directory:
a second ``conftest`` module would shadow the one other test directories import from).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from dashboard import auth, settings
from detector import store
from detector.explain import pseudonym
from detector.validate import RejectCounter, canonicalize

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PASSWORD = "correct horse battery"
ACCOUNTS = {"rev": "reviewer", "sup": "supervisor", "aud": "auditor"}
EPISODE = datetime(2025, 10, 20, 1, 0, tzinfo=timezone.utc)
PLATE = "7ABC123"
CLINIC = (34.0500, -118.2500)


def make_batch(rows: list[dict]) -> pd.DataFrame:
    raw = pd.DataFrame([{k: str(v) for k, v in r.items()} for r in rows]).fillna("")
    sink = RejectCounter()
    batch = canonicalize(raw, "test", np.arange(2, len(rows) + 2), sink)
    assert not sink.items, sink.items
    return batch


def _searches() -> pd.DataFrame:
    rows = []
    start = EPISODE - timedelta(days=90)
    for day in range(90):  # officer.jones: three daytime searches a day with a case number
        for k in range(3):
            rows.append({"search_id": f"b{day}_{k}", "ts": (start + timedelta(days=day, hours=9 + 2 * k)).isoformat(),
                         "user_id": "officer.jones", "agency": "Town PD", "agency_state": "CA", "search_type": "plate",
                         "plate": f"5XYZ{day:03d}", "reason": "burglary", "case_number": f"25-{day:04d}",
                         "networks_searched": 1})
    for i in range(6):  # the episode: one plate at night, no case number, the plate in the reason
        rows.append({"search_id": f"e{i}", "ts": (EPISODE + timedelta(days=i, minutes=10 * i)).isoformat(),
                     "user_id": "officer.jones", "agency": "Town PD", "agency_state": "CA", "search_type": "plate",
                     "plate": "7abc-123", "reason": f"check {PLATE}", "networks_searched": 1})
    rows.append({"search_id": "o1", "ts": (EPISODE - timedelta(days=3)).isoformat(), "user_id": "officer.smith",
                 "agency": "Town PD", "agency_state": "CA", "search_type": "plate", "plate": PLATE, "reason": "stolen vehicle",
                 "case_number": "25-9999"})
    for i in range(4):  # deputy.k: area searches around a clinic
        rows.append({"search_id": f"s{i}", "ts": (EPISODE + timedelta(days=2 * i, hours=14)).isoformat(), "user_id": "deputy.k",
                     "agency": "County SO", "agency_state": "CA", "search_type": "area", "lat": CLINIC[0] + 0.001 * i,
                     "lon": CLINIC[1], "radius_m": 300, "reason": "investigation"})
    for i in range(5):  # a federal agent's nationwide lookups
        rows.append({"search_id": f"f{i}", "ts": (EPISODE + timedelta(hours=i)).isoformat(), "user_id": "agent.f",
                     "agency": "[Federal] HSI", "agency_state": "US", "search_type": "plate", "plate": f"9FED{i:03d}",
                     "reason": "ICE", "networks_searched": 900})
    return make_batch(rows)


def _alert(alert_id: str, severity: str, score: float, user: str, agency: str, pattern: str, ids: list[str],
           batch: pd.DataFrame, signals: list[tuple[str, float, str]], target: str, summary: str) -> dict:
    ts = batch.set_index("search_id").loc[ids, "ts"]
    return {"alert_id": alert_id, "severity": severity, "score": score, "user_id": user, "agency": agency,
            "first_ts": ts.min().isoformat(), "last_ts": ts.max().isoformat(), "search_ids": ids,
            "signals": [{"name": n, "weight": w, "title": n.replace("_", " "), "detail": d} for n, w, d in signals],
            "summary": summary, "pattern": pattern, "users": [user], "target": target}


def alerts(batch: pd.DataFrame) -> list[dict]:
    target = pseudonym(PLATE)
    return [
        _alert("A1", "high", 88.0, "officer.jones", "Town PD", "repeat_plate", [f"e{i}" for i in range(6)], batch,
               [("repeat_plate", 0.6, f"6 searches of {target}"), ("off_shift", 0.3, "6 of 6 searches at rare hours"),
                ("no_case_number", 0.1, "6 of 6 searches without a case number")], target,
               f"User officer.jones (Town PD) looked up {target} 6 times: review the stated reasons and ask for the case."),
        _alert("A2", "critical", 97.0, "deputy.k", "County SO", "sensitive_site", [f"s{i}" for i in range(4)], batch,
               [("sensitive_site", 0.8, "searches within reach of a reproductive health site on 4 day(s)")], "no plate",
               "User deputy.k (County SO) searched around a reproductive health site on 4 day(s): review the stated reasons."),
        _alert("A3", "medium", 72.0, "agent.f", "[Federal] HSI", "informal_sharing", [f"f{i}" for i in range(5)], batch,
               [("informal_sharing", 0.5, "5 nationwide lookups"), ("protected_reason", 0.4, "reason categories: immigration")],
               "no plate", "User agent.f ([Federal] HSI) ran 5 nationwide lookups of plates unknown locally."),
    ]


def fill(url: str) -> None:
    engine = store.open_store(url)
    batch = _searches()
    with engine.begin() as conn:
        store.save_alerts(conn, alerts(batch))
        store.save_searches(conn, batch)
        conn.execute(store.alerts.update().where(store.alerts.c.alert_id == "A3").values(status="false_positive"))
    engine.dispose()


@pytest.fixture
def dashboard_env(tmp_path, monkeypatch) -> dict:
    """Store, users file and sites; the environment the dashboard CLI would set."""
    url = f"sqlite:///{tmp_path / 'alerts.sqlite'}"
    fill(url)
    users = tmp_path / "users.toml"
    for name, role in ACCOUNTS.items():
        auth.add_account(users, name, role, PASSWORD, rounds=4)
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / "sites.csv").write_text("site_id,category,name,lat,lon,radius_m\n"
                                   f"c1,reproductive_health,Valley Clinic,{CLINIC[0]},{CLINIC[1] + 0.002},100\n"
                                   "c2,school,Far School,35.5,-119.0,100\n")
    cfg = settings.Settings(store_url=url, users_file=users, reference_dir=ref, refresh_seconds=3600)
    for k, v in cfg.to_env().items():
        monkeypatch.setenv(k, v)
    return {"url": url, "users": users, "reference": ref}


@pytest.fixture
def engine(dashboard_env):
    eng = store.open_store(dashboard_env["url"])
    yield eng
    eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_engine(request, tmp_path):
    """The filled store on SQLite and on PostgreSQL, for the queries whose SQL differs."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'alerts.sqlite'}"
    else:
        admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
        name = f"t_dash_{abs(hash(str(tmp_path))) % 10**8}"
        try:
            with admin.connect() as c:
                c.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
                c.execute(sa.text(f"CREATE DATABASE {name}"))
        except sa.exc.OperationalError:
            pytest.skip("no PostgreSQL at 127.0.0.1:5432")
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    fill(url)
    eng = store.open_store(url)
    yield eng
    eng.dispose()
    if request.param == "postgresql":
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))


def log_rows(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(store.access_log).order_by(store.access_log.c.id)).mappings()]


def open_app(name: str | None = None) -> AppTest:
    """The app at its first page, signed in as ``name`` when given."""
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    if name is not None:
        login(at, name)
    return at


def login(at: AppTest, name: str, password: str = PASSWORD) -> AppTest:
    at.text_input(key="login_username").input(name)
    at.text_input(key="login_password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def open_alert(at: AppTest, alert_id: str) -> AppTest:
    at.switch_page("views/detail.py")
    at.query_params["alert"] = alert_id
    at.run()
    assert not at.exception, at.exception
    return at


def page_text(at: AppTest) -> str:
    """Everything the page shows as text: elements, tables, chart data and map data."""
    parts: list[str] = []
    for e in [*at.main, *at.sidebar]:
        if e.type == "dataframe":
            parts.append(e.value.to_csv())
        elif e.type == "vega_lite_chart":
            parts.append(e.proto.spec)
            parts += [convert_arrow_bytes_to_pandas_df(d.data.data).to_csv() for d in e.proto.datasets]
        elif e.type == "deck_gl_json_chart":
            parts.append(e.proto.json)
        elif hasattr(e, "options"):  # the browser gets the formatted options, not the option values
            parts += [e.label, *map(str, e.options)]
        else:
            parts += [str(getattr(e, a)) for a in ("label", "value", "body") if hasattr(e, a)]
    return "\n".join(parts)


def button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}: {[b.label for b in at.button]}"
    return matches[0]
