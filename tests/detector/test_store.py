import sqlalchemy as sa
import pytest

from detector import store


def record(alert_id="A1", score=80.0, n=2):
    return {"alert_id": alert_id, "severity": "high", "score": score, "user_id": "u1", "agency": "PD", "pattern": "repeat_plate",
            "first_ts": "2025-10-01T10:00:00+00:00", "last_ts": "2025-10-02T10:00:00+00:00",
            "search_ids": [f"s{i}" for i in range(n)], "signals": [], "summary": "x"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    if request.param == "sqlite":
        eng = store.open_store(f"sqlite:///{tmp_path / 'a.sqlite'}")
    else:
        admin = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT")
        name = f"t_store_{abs(hash(str(tmp_path))) % 10**8}"
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
            c.execute(sa.text(f"CREATE DATABASE {name}"))
        eng = store.open_store(f"postgresql://postgres@127.0.0.1:5432/{name}")
    yield eng
    eng.dispose()


def test_migrations_run_once_and_are_recorded(engine):
    assert store.migrate(engine) == len(store.MIGRATIONS)
    with engine.connect() as c:
        versions = c.execute(sa.select(store.schema_version.c.version)).scalars().all()
    assert sorted(versions) == list(range(1, len(store.MIGRATIONS) + 1))


def test_upsert_replaces_alert_but_keeps_review_status(engine):
    with engine.begin() as c:
        store.save_alerts(c, [record(n=2)])
        c.execute(store.alerts.update().values(status="confirmed_misuse", assignee="ia1"))
        store.save_alerts(c, [record(score=90.0, n=5)])
    with engine.connect() as c:
        row = c.execute(sa.select(store.alerts)).mappings().one()
    assert (row["score"], row["n_searches"], row["status"], row["assignee"]) == (90.0, 5, "confirmed_misuse", "ia1")
    assert store.load_alerts(engine)[0]["search_ids"] == [f"s{i}" for i in range(5)]


def test_a_store_of_an_earlier_version_is_brought_up_to_date_keeping_its_rows(tmp_path):
    from datetime import datetime, timezone

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = sa.create_engine(url)
    with old.begin() as conn:  # a store as version 4 left it, with a supervisor's rule
        store.schema_version.create(conn)
        for version, step in enumerate(store.MIGRATIONS[:4], 1):
            step(conn)
            conn.execute(store.schema_version.insert().values(version=version))
        conn.execute(sa.text("INSERT INTO suppressions (rule_id, rule, created_by, created_at) VALUES ('dash-1', '{}', 'sup', :t)"),
                     {"t": datetime.now(timezone.utc)})
    old.dispose()
    engine = store.open_store(url)
    with engine.connect() as conn:
        [row] = conn.execute(sa.select(store.suppressions)).mappings().all()
    assert row["rule_id"] == "dash-1" and row["source"] is None and row["applied_at"] is None
    engine.dispose()


def test_a_rules_files_rules_are_recorded_once_and_kept_as_the_file_now_reads(engine, tmp_path):
    import json

    from detector.suppress import load_suppressions, record_file_rules, stored_rules

    path = tmp_path / "rules.yaml"
    for reason in ("patrol", "patrol (IA-7)"):  # two runs, or two stream instances, on the same store
        path.write_text(f"suppressions:\n  - {{id: beat, reason: {reason}, agency: PD, signals: all, expires: 2025-12-31}}\n")
        with engine.begin() as conn:
            record_file_rules(conn, load_suppressions(path))
    with engine.connect() as conn:
        [row] = conn.execute(sa.select(store.suppressions)).mappings().all()
        assert stored_rules(conn) == []
    assert json.loads(row["rule"])["reason"] == "patrol (IA-7)" and row["source"] == str(path.resolve())


def test_a_rule_its_file_no_longer_holds_is_revoked_by_the_file_and_taken_up_again_if_it_returns(engine, tmp_path):
    from detector.suppress import DROPPED_BY, load_suppressions, record_file_rules

    beat = "  - {id: beat, reason: patrol, agency: PD, signals: all, expires: 2025-12-31}\n"
    school = "  - {id: school, reason: escort, agency: PD, signals: [sensitive_site], expires: 2025-12-31}\n"
    path, other = tmp_path / "rules.yaml", tmp_path / "other.yaml"
    other.write_text("suppressions:\n" + school.replace("school", "elsewhere"))

    def record(text: str) -> dict[str, tuple]:
        path.write_text("suppressions:\n" + text if text else "suppressions: []\n")
        with engine.begin() as conn:
            record_file_rules(conn, load_suppressions(path))
            record_file_rules(conn, load_suppressions(other))
        with engine.connect() as conn:
            rows = conn.execute(sa.select(store.suppressions)).mappings().all()
        return {r["rule_id"]: (r["revoked_by"], r["revoked_at"] is not None) for r in rows}

    assert record(beat + school) == {"beat": (None, False), "school": (None, False), "elsewhere": (None, False)}
    assert record(beat) == {"beat": (None, False), "school": (DROPPED_BY, True), "elsewhere": (None, False)}
    assert record("") == {"beat": (DROPPED_BY, True), "school": (DROPPED_BY, True), "elsewhere": (None, False)}
    assert record(school) == {"beat": (DROPPED_BY, True), "school": (None, False), "elsewhere": (None, False)}
