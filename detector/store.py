"""The alert store: one SQLAlchemy Core layer over SQLite (embedded) and PostgreSQL (shared).

Schema changes are numbered migrations applied in order on open, recorded in
``schema_version``, so that an old store file or a shared database already in use by
other instances is brought forward instead of rebuilt.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

metadata = sa.MetaData()

schema_version = sa.Table("schema_version", metadata, sa.Column("version", sa.Integer, nullable=False))

alerts = sa.Table(
    "alerts", metadata,
    sa.Column("alert_id", sa.String(64), primary_key=True),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("agency", sa.Text, nullable=False),
    sa.Column("pattern", sa.String(32), nullable=False),
    sa.Column("first_ts", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_ts", sa.DateTime(timezone=True), nullable=False),
    sa.Column("n_searches", sa.Integer, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("record", sa.Text, nullable=False),  # the full alert as JSON (spec section 5)
    sa.Column("status", sa.String(32), nullable=False, server_default="open"),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)
sa.Index("ix_alerts_last_ts", alerts.c.last_ts)
sa.Index("ix_alerts_agency", alerts.c.agency)

scores = sa.Table(
    "scores", metadata,
    sa.Column("search_id", sa.String(128), primary_key=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("flagged", sa.Boolean, nullable=False),
    sa.Column("alert_id", sa.String(64), nullable=True),
)
sa.Index("ix_scores_alert", scores.c.alert_id)


def _v1(conn: Connection) -> None:
    for table in (alerts, scores):
        table.create(conn, checkfirst=True)


# Ordered migrations: index + 1 is the version each one brings the store to.
MIGRATIONS: list[Callable[[Connection], None]] = [_v1]


def normalize_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def default_url(directory: str | Path) -> str:
    return f"sqlite:///{Path(directory) / 'alerts.sqlite'}"


def open_store(url: str) -> Engine:
    """Connect and migrate; SQLite files get WAL so a dashboard can read while a job writes."""
    url = normalize_url(url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - driver callback
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
    migrate(engine)
    return engine


def migrate(engine: Engine) -> int:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # one instance migrates at a time when many start together
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(7345012)"))
        schema_version.create(conn, checkfirst=True)
        current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0
        for version in range(current + 1, len(MIGRATIONS) + 1):
            MIGRATIONS[version - 1](conn)
            conn.execute(schema_version.insert().values(version=version))
        return len(MIGRATIONS)


def alert_row(record: dict) -> dict:
    return {
        "alert_id": record["alert_id"], "severity": record["severity"], "score": record["score"],
        "user_id": record["user_id"], "agency": record["agency"], "pattern": record.get("pattern", ""),
        "first_ts": pd.Timestamp(record["first_ts"]).to_pydatetime(), "last_ts": pd.Timestamp(record["last_ts"]).to_pydatetime(),
        "n_searches": len(record["search_ids"]), "summary": record["summary"], "record": json.dumps(record),
    }


def _upsert(conn: Connection, table: sa.Table, rows: list[dict], key: str, keep: Iterable[str] = ()) -> None:
    """Insert or replace rows by primary key, leaving columns in ``keep`` as stored."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    update = {c.name: stmt.excluded[c.name] for c in table.columns if c.name != key and c.name in rows[0] and c.name not in keep}
    conn.execute(stmt.on_conflict_do_update(index_elements=[key], set_=update), rows)


def save_alerts(conn: Connection, records: list[dict]) -> None:
    """Upsert alerts; a reviewer's status survives a re-score of the same alert."""
    _upsert(conn, alerts, [alert_row(r) for r in records], "alert_id", keep=("status",))


def save_scores(conn: Connection, frame: pd.DataFrame) -> None:
    rows = [
        {"search_id": s, "score": float(v), "flagged": bool(f), "alert_id": a or None}
        for s, v, f, a in zip(frame["search_id"], frame["score"], frame["flagged"], frame["alert_id"])
    ]
    for start in range(0, len(rows), 5000):
        _upsert(conn, scores, rows[start:start + 5000], "search_id")


def load_alerts(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [json.loads(r) for r in conn.execute(sa.select(alerts.c.record).order_by(alerts.c.first_ts, alerts.c.alert_id)).scalars()]
