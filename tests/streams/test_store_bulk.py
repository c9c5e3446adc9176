"""The store's bulk writes of searches and scores (what every stream checkpoint does), on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from detector import store
from detector.validate import RejectCounter, canonicalize


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    eng = store.open_store(url)
    yield eng
    eng.dispose()


def batch(rows: list[dict]) -> pd.DataFrame:
    raw = pd.DataFrame([{"user_id": "u1", "agency": "Town PD", **r} for r in rows])
    return canonicalize(raw, "test", np.arange(len(rows)), RejectCounter())


def utc(value) -> pd.Timestamp | None:
    """A stored time as naive UTC (SQLite keeps text without a zone, PostgreSQL a zone-aware time)."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo else ts


def test_searches_are_upserted_with_nulls_microsecond_times_and_the_last_row_of_a_repeat(engine):
    first = batch([
        {"search_id": "a", "ts": "2025-10-01T10:00:00.123456789Z", "plate": "ab-1", "lat": 34.1, "lon": -118.25,
         "radius_m": 100, "networks_searched": 3, "window_start": "2025-09-01T00:00:00+02:00"},
        {"search_id": "b", "ts": "2025-10-01T11:00:00Z", "user_id": "***", "reason": "stolen car"},
    ])
    again = batch([
        {"search_id": "b", "ts": "2025-10-01T11:00:00Z", "reason": "first"},
        {"search_id": "c", "ts": "2025-10-02T00:00:00Z", "results": 0, "devices_searched": 12},
        {"search_id": "b", "ts": "2025-10-01T11:30:00Z", "reason": "", "case_number": "24-1"},  # the last one counts
    ])
    with engine.begin() as conn:
        store.save_searches(conn, first)
        store.save_searches(conn, again)
    with engine.connect() as conn:
        rows = {r["search_id"]: r for r in conn.execute(sa.select(store.searches)).mappings()}
    assert sorted(rows) == ["a", "b", "c"]
    a, b, c = rows["a"], rows["b"], rows["c"]
    assert utc(a["ts"]) == pd.Timestamp("2025-10-01 10:00:00.123456")  # nanoseconds cut to microseconds
    assert utc(a["window_start"]) == pd.Timestamp("2025-08-31 22:00:00") and a["window_end"] is None
    assert (a["plate"], a["lat"], a["lon"], a["radius_m"], a["networks_searched"]) == ("AB1", 34.1, -118.25, 100.0, 3)
    assert a["reason"] is None and a["devices_searched"] is None and a["user_id"] == "u1"
    assert utc(b["ts"]) == pd.Timestamp("2025-10-01 11:30:00") and b["user_id"] == "u1"
    assert (b["reason"], b["case_number"], b["lat"]) == (None, "24-1", None)
    assert (c["results"], c["devices_searched"]) == (0, 12) and isinstance(c["results"], int)


def test_scores_are_upserted_and_an_empty_alert_id_is_null(engine):
    with engine.begin() as conn:
        store.save_scores(conn, pd.DataFrame({"search_id": ["s1", "s2"], "score": [12.5, 99.0], "flagged": [False, True],
                                              "alert_id": ["", "A1"]}))
        store.save_scores(conn, pd.DataFrame({"search_id": ["s2", "s3", "s2"], "score": [70.25, 3.0, 80.0],
                                              "flagged": [True, False, True], "alert_id": ["A1", "", "A2"]}))
    with engine.connect() as conn:
        rows = sorted(tuple(r) for r in conn.execute(sa.select(store.scores)))
    assert rows == [("s1", 12.5, False, None), ("s2", 80.0, True, "A2"), ("s3", 3.0, False, None)]
