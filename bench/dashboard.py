"""Dashboard load times over a large store: 100,000 alerts and a million searches by default.

Fills a SQLite store with the store's own writers (or reuses one made earlier in
``--dir``), then times page runs with Streamlit's AppTest, which executes the
page script exactly as the server does, without a browser. Goal: the alert queue
under 2 s.

    python bench/dashboard.py [--alerts 100000] [--searches 1000000] [--dir /tmp/dash-bench]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

# Run as a script, this file's directory leads sys.path and its name would shadow the dashboard package.
sys.path = [p for p in sys.path if Path(p or os.curdir).resolve() != Path(__file__).resolve().parent]

from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard import auth, settings  # noqa: E402
from detector import store  # noqa: E402
from detector.explain import SIGNAL_TITLES, pseudonym  # noqa: E402
from detector.schema import FIELDS  # noqa: E402

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
PASSWORD = "bench password 1"
GOAL_S = 2.0


def searches_frame(n: int, users: int, rng: np.random.Generator, start: pd.Timestamp) -> pd.DataFrame:
    """Canonical searches: mostly daytime plate lookups by ``users`` accounts of 40 agencies over a year."""
    user = rng.integers(0, users, n)
    agency_of = rng.integers(0, 40, users)
    state = np.where(agency_of % 10 == 0, "US", np.where(agency_of % 7 == 0, "TX", "CA"))
    hours = pd.to_timedelta(rng.normal(13, 3, n).clip(0, 23.9), "h")
    out = pd.DataFrame({
        "search_id": "s" + pd.Series(np.arange(n)).astype(str),
        "ts": (start + pd.to_timedelta(rng.integers(0, 365, n), "D") + hours).floor("s").tz_localize("UTC"),
        "user_id": "officer" + pd.Series(user).astype(str),
        "agency": "Agency " + pd.Series(agency_of[user]).astype(str),
        "agency_state": state[agency_of[user]],
        "search_type": "plate",
        "plate": "P" + pd.Series(rng.integers(0, n // 4, n)).astype(str),
        "reason": rng.choice(["investigation", "stolen vehicle", "", "warrant"], n),
        "case_number": np.where(rng.random(n) < 0.6, "25-" + pd.Series(rng.integers(0, 99999, n)).astype(str), ""),
        "networks_searched": rng.integers(1, 1200, n).astype(np.float64),
    })
    for f in FIELDS:
        if f.name not in out:
            out[f.name] = "" if f.kind == "str" else (pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns, UTC]")
                                                      if f.kind == "ts" else np.nan)
    return out[[f.name for f in FIELDS]]


def alert_records(n: int, searches: pd.DataFrame, rng: np.random.Generator) -> list[dict]:
    """Alerts over runs of each account's searches, with the detector's fields and a plausible spread."""
    names = list(SIGNAL_TITLES)
    severities = np.array(["low", "medium", "high", "critical"])
    picks = rng.integers(0, len(searches) - 20, n)
    sizes = rng.integers(2, 15, n)
    ids, users, agencies, ts = (searches[c].to_numpy() for c in ("search_id", "user_id", "agency", "ts"))
    records = []
    for i, (p, k) in enumerate(zip(picks, sizes)):
        chosen = rng.choice(names, rng.integers(1, 5), replace=False)
        score = float(rng.uniform(60, 100))
        span = pd.DatetimeIndex(ts[p:p + k]).sort_values()
        records.append({
            "alert_id": f"A{i:07d}", "severity": str(severities[min(3, int((score - 60) / 10))]), "score": round(score, 2),
            "user_id": str(users[p]), "agency": str(agencies[p]), "first_ts": span[0].isoformat(), "last_ts": span[-1].isoformat(),
            "search_ids": [str(s) for s in ids[p:p + k]],
            "signals": [{"name": s, "weight": round(float(rng.uniform(0.05, 0.6)), 2), "title": SIGNAL_TITLES[s],
                         "detail": f"{s} fired"} for s in chosen],
            "summary": f"User {users[p]} ({agencies[p]}) looked up {pseudonym(str(p))} {k} times: review the stated reasons.",
            "pattern": str(chosen[0]), "users": [str(users[p])], "target": pseudonym(str(p)),
        })
    return records


def fill(url: str, n_alerts: int, n_searches: int) -> None:
    rng = np.random.default_rng(7)
    engine = store.open_store(url)
    with engine.connect() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(store.alerts)).scalar_one()
    if have >= n_alerts:
        print(f"reusing {url} ({have:,} alerts)")
        return
    t = time.perf_counter()
    frame = searches_frame(n_searches, max(100, n_searches // 500), rng, pd.Timestamp("2025-01-01"))
    with engine.begin() as conn:
        store.save_searches(conn, frame)
    print(f"filled {n_searches:,} searches in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    records = alert_records(n_alerts, frame, rng)
    statuses = rng.choice(["open", "open", "open", "justified", "false_positive", "confirmed_misuse", "needs_information"], n_alerts)
    with engine.begin() as conn:
        for start in range(0, n_alerts, 5000):
            store.save_alerts(conn, records[start:start + 5000])
        for status in set(statuses) - {"open"}:
            chosen = [r["alert_id"] for r, s in zip(records, statuses) if s == status]
            for start in range(0, len(chosen), 500):
                conn.execute(store.alerts.update().where(store.alerts.c.alert_id.in_(chosen[start:start + 500])).values(status=status))
    print(f"filled {n_alerts:,} alerts in {time.perf_counter() - t:.1f} s")
    engine.dispose()


def timed(label: str, step: Callable[[], AppTest], title: str) -> float:
    t = time.perf_counter()
    at = step()
    elapsed = time.perf_counter() - t
    assert not at.exception, at.exception
    assert at.title and at.title[0].value.startswith(title), f"expected the page {title!r}, got {at.title}"
    print(f"  {label:<52} {elapsed:6.2f} s")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=1_000_000)
    parser.add_argument("--dir", help="keep (and reuse) the store here instead of a temporary directory")
    args = parser.parse_args()
    directory = Path(args.dir or tempfile.mkdtemp(prefix="dash-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{directory / 'alerts.sqlite'}"
    fill(url, args.alerts, args.searches)
    users = directory / "users.toml"
    if not users.exists():
        auth.add_account(users, "bench", "supervisor", PASSWORD, rounds=4)
    os.environ.update(settings.Settings(store_url=url, users_file=users, refresh_seconds=3600).to_env())

    at = AppTest.from_file(str(APP), default_timeout=120)
    print(f"page runs (AppTest; store {directory / 'alerts.sqlite'}):")
    timed("sign-in form (first run, imports included)", at.run, "alpr-watch")

    def sign_in() -> AppTest:
        at.text_input(key="login_username").input("bench")
        at.text_input(key="login_password").input(PASSWORD)
        return at.button[0].click().run()

    queue = [timed("alert queue, first load after sign-in", sign_in, "Alert queue")]
    queue.append(timed("alert queue, rerun", at.run, "Alert queue"))
    at.multiselect(key="q_status").set_value([])
    queue.append(timed("alert queue, all statuses", at.run, "Alert queue"))
    at.multiselect(key="q_signal").set_value(["sensitive_site"])
    queue.append(timed("alert queue, signal filter", at.run, "Alert queue"))
    at.multiselect(key="q_signal").set_value([])
    at.selectbox(key="q_sort").set_value("newest")
    queue.append(timed("alert queue, sorted by latest activity", at.run, "Alert queue"))
    page = max(1, min(1000, args.alerts // 50))
    at.number_input(key="q_page").set_value(page)
    queue.append(timed(f"alert queue, page {page:,}", at.run, "Alert queue"))
    assert f"page {page} of" in at.caption[0].value, at.caption[0].value
    first = str(at.dataframe[0].value["alert_id"].iloc[0])
    at.switch_page("views/detail.py")
    at.query_params["alert"] = first
    timed(f"alert detail ({first}), first (imports altair, pydeck)", at.run, "Alert ")
    timed(f"alert detail ({first}), again", at.run, "Alert ")
    at.switch_page("views/user.py")
    timed("user page", at.run, "User")
    at.switch_page("views/overview.py")
    timed("overview (cold cache: scans all alerts and searches)", at.run, "Overview")
    timed("overview (cached)", at.run, "Overview")
    worst = max(queue)
    print(f"alert queue: worst {worst:.2f} s, goal {GOAL_S:.0f} s: {'met' if worst < GOAL_S else 'MISSED'}")


if __name__ == "__main__":
    main()
