"""The alert store: one SQLAlchemy Core layer over SQLite (embedded) and PostgreSQL (shared).

Schema changes are numbered migrations applied in order on open, recorded in
``schema_version``, so that an old store file or a shared database already in use by
other instances is brought forward instead of rebuilt.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from detector.schema import FIELDS, INTEGER_FIELDS, ts_ns

metadata = sa.MetaData()

schema_version = sa.Table("schema_version", metadata, sa.Column("version", sa.Integer, nullable=False))

def _alert_columns() -> list[sa.Column]:
    """The alerts table as migration 1 created it."""
    return [
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
    ]


def _score_columns() -> list[sa.Column]:
    return [
        sa.Column("search_id", sa.String(128), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("flagged", sa.Boolean, nullable=False),
        sa.Column("alert_id", sa.String(64), nullable=True),
    ]


alerts = sa.Table("alerts", metadata, *_alert_columns(), sa.Column("assignee", sa.String(255), nullable=True))

scores = sa.Table("scores", metadata, *_score_columns())

# Stream checkpoints: per consumer group, topic and partition, the next offset to read
# and the detector state of that partition, committed with the alerts of the batch.
checkpoints = sa.Table(
    "checkpoints", metadata,
    sa.Column("group_id", sa.String(255), primary_key=True),
    sa.Column("topic", sa.String(255), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True),
    sa.Column("next_offset", sa.BigInteger, nullable=False),
    sa.Column("state", sa.LargeBinary, nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

# Reviewer decisions; the newest per alert is the alert's status, all feed the feedback layer.
DISPOSITIONS = ("confirmed_misuse", "justified", "false_positive", "needs_information")
dispositions = sa.Table(
    "dispositions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.String(64), nullable=False, index=True),
    sa.Column("disposition", sa.String(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("reviewer", sa.String(255), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

# Who looked at what: every view, reveal, disposition and export in the dashboard.
access_log = sa.Table(
    "access_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("username", sa.String(255), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("alert_id", sa.String(64), nullable=True),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
)

# Suppression rules (``detector.suppress``): those a supervisor wrote in the dashboard, never
# deleted, only revoked, so that what silenced a signal when stays on the record; and those of
# the rules files replays and streams applied (``source``), so that every reviewer sees them too.
def _suppression_columns() -> list[sa.Column]:
    return [
        sa.Column("rule_id", sa.String(64), primary_key=True),
        sa.Column("rule", sa.Text, nullable=False),  # the rule as its rules-file entry, JSON
        sa.Column("alert_id", sa.String(64), nullable=True),  # the alert it was written from
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sa.String(255), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    ]


suppressions = sa.Table(
    "suppressions", metadata, *_suppression_columns(),
    sa.Column("source", sa.String(1024), nullable=True),  # the rules file; none for the dashboard's
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),  # a file's rule: the last run that applied it
)


# The searches behind the alerts, with the context a reviewer needs around them (the
# user's timeline, other users of the same plates): spec section 1 columns, missing = NULL.
searches = sa.Table(
    "searches", metadata,
    sa.Column("search_id", sa.String(128), primary_key=True),
    sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
    sa.Column("user_id", sa.String(255), nullable=False),
    sa.Column("agency", sa.String(255), nullable=False),
    sa.Column("agency_state", sa.String(8)),
    sa.Column("search_type", sa.String(32)),
    sa.Column("plate", sa.String(64)),
    sa.Column("plate_state", sa.String(8)),
    sa.Column("lat", sa.Float),
    sa.Column("lon", sa.Float),
    sa.Column("radius_m", sa.Float),
    sa.Column("window_start", sa.DateTime(timezone=True)),
    sa.Column("window_end", sa.DateTime(timezone=True)),
    sa.Column("reason", sa.Text),
    sa.Column("offense_type", sa.Text),
    sa.Column("case_number", sa.String(255)),
    sa.Column("on_behalf_of", sa.Text),
    sa.Column("networks_searched", sa.Integer),
    sa.Column("devices_searched", sa.Integer),
    sa.Column("results", sa.Integer),
    sa.Index("ix_searches_user_ts", "user_id", "ts"),
    sa.Index("ix_searches_plate_ts", "plate", "ts"),
    sa.Index("ix_searches_agency_ts", "agency", "ts"),
    sa.Index("ix_searches_ts", "ts"),
)


def _v1(conn: Connection) -> None:
    # the v1 shape of alerts, without the columns later migrations add
    v1 = sa.MetaData()
    a = sa.Table("alerts", v1, *_alert_columns())
    s = sa.Table("scores", v1, *_score_columns())
    sa.Index("ix_alerts_last_ts", a.c.last_ts)
    sa.Index("ix_alerts_agency", a.c.agency)
    sa.Index("ix_scores_alert", s.c.alert_id)
    v1.create_all(conn, checkfirst=True)


def _v2(conn: Connection) -> None:
    for table in (checkpoints, dispositions, access_log):
        table.create(conn, checkfirst=True)
    conn.execute(sa.text("ALTER TABLE alerts ADD COLUMN assignee VARCHAR(255)"))


def _v3(conn: Connection) -> None:
    searches.create(conn, checkfirst=True)
    # the dashboard's queue sorts by score and filters by status over many alerts
    v3 = sa.MetaData()
    a = sa.Table("alerts", v3, sa.Column("score", sa.Float), sa.Column("status", sa.String(32)))
    for index in (sa.Index("ix_alerts_score", a.c.score), sa.Index("ix_alerts_status", a.c.status)):
        index.create(conn, checkfirst=True)


def _v4(conn: Connection) -> None:
    # the v4 shape of suppressions, without the columns later migrations add
    v4 = sa.MetaData()
    sa.Table("suppressions", v4, *_suppression_columns())
    v4.create_all(conn, checkfirst=True)


def _v5(conn: Connection) -> None:
    for name in ("source", "applied_at"):  # each type as this database names it
        kind = suppressions.c[name].type.compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE suppressions ADD COLUMN {name} {kind}"))


# Ordered migrations: index + 1 is the version each one brings the store to.
MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2, _v3, _v4, _v5]


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
            cur.execute("PRAGMA cache_size=-65536")  # 64 MB: index updates of bulk search inserts stay in memory
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


def dialect_insert(conn: Connection, table: sa.Table) -> sa.Insert:
    """An INSERT into ``table`` as this database's dialect builds it: the kind that takes ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _upsert(conn: Connection, table: sa.Table, rows: list[dict], key: str, keep: Iterable[str] = ()) -> None:
    """Insert or replace rows by primary key, leaving columns in ``keep`` as stored."""
    if not rows:
        return
    stmt = dialect_insert(conn, table)
    update = {c.name: stmt.excluded[c.name] for c in table.columns if c.name != key and c.name in rows[0] and c.name not in keep}
    conn.execute(stmt.on_conflict_do_update(index_elements=[key], set_=update), rows)


def save_alerts(conn: Connection, records: list[dict]) -> None:
    """Upsert alerts; a reviewer's status and assignee survive a re-score of the same alert."""
    _upsert(conn, alerts, [alert_row(r) for r in records], "alert_id", keep=("status", "assignee"))


def save_scores(conn: Connection, frame: pd.DataFrame) -> None:
    """Upsert scores by ``search_id`` (where a frame repeats one, its last row wins)."""
    frame = frame.drop_duplicates("search_id", keep="last")
    _bulk_upsert(conn, scores, {
        "search_id": frame["search_id"].tolist(), "score": frame["score"].to_numpy(dtype=np.float64).tolist(),
        "flagged": frame["flagged"].to_numpy(dtype=bool).tolist(), "alert_id": _text(frame["alert_id"]),
    }, "search_id")


def save_searches(conn: Connection, frame: pd.DataFrame) -> None:
    """Upsert canonical search rows (a batch, spec section 1) by ``search_id``; empty values become NULL."""
    frame = frame.drop_duplicates("search_id", keep="last")
    columns: dict[str, list] = {}
    for f in FIELDS:
        col = frame[f.name]
        if f.kind == "str":
            columns[f.name] = col.tolist() if f.required else _text(col)
        elif f.kind == "ts":
            columns[f.name] = _times(col, conn.dialect.name)
        else:
            columns[f.name] = _numbers(col, whole=f.name in INTEGER_FIELDS)
    _bulk_upsert(conn, searches, columns, "search_id")


# Bulk writes: a stream stores every search and score it handles, so these are built
# column-wise as the driver's own values and handed to the driver without SQLAlchemy's
# per-row parameter processing (several times the cost of the insert itself).
SQLITE_VARIABLES = 32766  # parameters one SQLite statement takes (since SQLite 3.32)


def _bulk_upsert(conn: Connection, table: sa.Table, columns: dict[str, list], key: str) -> None:
    """Insert or replace rows (``columns`` of driver values, unique keys) by primary key.

    PostgreSQL gets them by COPY into a temporary table and one INSERT .. SELECT; SQLite,
    which has no COPY, in statements of as many rows as it takes parameters.
    """
    names = list(columns)
    rows = list(zip(*columns.values()))
    if not rows:
        return
    update = ", ".join(f"{n} = excluded.{n}" for n in names if n != key)
    listed = ", ".join(names)
    if conn.dialect.name != "postgresql":
        # many rows per statement: the driver releases the GIL per statement, not per row
        per = max(1, SQLITE_VARIABLES // len(names))
        one = f"({', '.join('?' * len(names))})"
        for start in range(0, len(rows), per):
            chunk = rows[start:start + per]
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({listed}) VALUES {', '.join([one] * len(chunk))} "
                                 f"ON CONFLICT ({key}) DO UPDATE SET {update}", tuple(itertools.chain.from_iterable(chunk)))
        return
    staging = f"_bulk_{table.name}"
    driver = conn.connection.driver_connection
    with driver.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} (LIKE {table.name})")
        with cur.copy(f"COPY {staging} ({listed}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(f"INSERT INTO {table.name} ({listed}) SELECT {listed} FROM {staging} "
                    f"ON CONFLICT ({key}) DO UPDATE SET {update}")
        cur.execute(f"TRUNCATE {staging}")


def _text(col: pd.Series) -> list:
    """Strings, with None for empty ones."""
    values = col.to_numpy(dtype=object)
    values[values == ""] = None
    return values.tolist()


def _numbers(col: pd.Series, whole: bool) -> list:
    """Floats (or ints for whole-number fields), with None for NaN."""
    values = col.to_numpy(dtype=np.float64)
    missing = np.isnan(values)
    out = (np.where(missing, 0, values).astype(np.int64) if whole else values).astype(object)
    out[missing] = None
    return out.tolist()


def _times(col: pd.Series, dialect: str) -> list:
    """UTC times to the microsecond, with None for NaT: for SQLite in SQLAlchemy's own text form
    (``DateTime`` columns there are text), for PostgreSQL with the zone spelled out."""
    micros = ts_ns(col).astype("datetime64[ns]").astype("datetime64[us]")
    text = np.char.replace(np.datetime_as_string(micros, unit="us"), "T", " ")
    if dialect == "postgresql":
        text = np.char.add(text, "+00:00")
    out = text.astype(object)
    out[np.isnat(micros)] = None
    return out.tolist()


def load_alerts(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [json.loads(r) for r in conn.execute(sa.select(alerts.c.record).order_by(alerts.c.first_ts, alerts.c.alert_id)).scalars()]
