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
