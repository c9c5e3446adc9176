"""Everything the dashboard reads from the store.

Queries are paginated or bounded and run on indexed columns (alerts by score,
status and time; searches by user, plate, agency and time), so pages stay quick
with 100,000 alerts and millions of searches. Nothing here offers a free search
of plates or people: every lookup starts from an alert or a user who has one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from detector.redaction import WITHHELD
from detector.store import DISPOSITIONS, alerts, dispositions, searches, suppressions

SEVERITIES = ("critical", "high", "medium", "low")
STATUSES = ("open", *DISPOSITIONS)
ACTIONABLE = ("open", "needs_information")
SORTS = {
    "score": (alerts.c.score.desc(), alerts.c.alert_id),
    "newest": (alerts.c.last_ts.desc(), alerts.c.alert_id),
    "oldest": (alerts.c.first_ts.asc(), alerts.c.alert_id),
    "severity": (sa.case({s: i for i, s in enumerate(SEVERITIES)}, value=alerts.c.severity, else_=9), alerts.c.score.desc(),
                 alerts.c.alert_id),
}
QUEUE_COLUMNS = ("alert_id", "severity", "score", "status", "assignee", "user_id", "agency", "pattern", "first_ts", "last_ts",
                 "n_searches", "summary", "record")
SEARCH_COLUMNS = tuple(c.name for c in searches.columns)
ID_CHUNK = 500  # ids per IN (...) list, well under every driver's parameter limit
UNASSIGNED = ""


def day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, timezone.utc)


def day_end(d: date) -> datetime:
    return datetime.combine(d, time.max, timezone.utc)


def utc(column: pd.Series) -> pd.Series:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones: make both aware UTC."""
    return pd.to_datetime(column, utc=True)


def _frame(rows: Sequence, columns: Iterable[str], times: Iterable[str] = ()) -> pd.DataFrame:
    frame = pd.DataFrame([dict(r) for r in rows], columns=list(columns))
    for c in times:
        frame[c] = utc(frame[c])
    return frame


@dataclass(frozen=True)
class QueueFilter:
    severities: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ACTIONABLE
    agencies: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    assignee: str | None = None  # a username, UNASSIGNED, or None for anyone

    def where(self) -> list[sa.ColumnElement[bool]]:
        c = alerts.c
        clauses: list[sa.ColumnElement[bool]] = []
        if self.severities:
            clauses.append(c.severity.in_(self.severities))
        if self.statuses:
            clauses.append(c.status.in_(self.statuses))
        if self.agencies:
            clauses.append(c.agency.in_(self.agencies))
        if self.signals:
            # the record is the detector's json.dumps, so a signal appears as this exact text
            clauses.append(sa.or_(*[c.record.contains(f'"name": "{s}"', autoescape=True) for s in self.signals]))
        if self.start:
            clauses.append(c.last_ts >= day_start(self.start))
        if self.end:
            clauses.append(c.first_ts <= day_end(self.end))
        if self.assignee == UNASSIGNED:
            clauses.append(sa.or_(c.assignee.is_(None), c.assignee == ""))
        elif self.assignee is not None:
            clauses.append(c.assignee == self.assignee)
        return clauses


def queue_page(conn: Connection, flt: QueueFilter, sort: str = "score", page: int = 0, size: int = 50) -> tuple[pd.DataFrame, int]:
    """One page of the alert queue and how many alerts match in all."""
    where = flt.where()
    total = conn.execute(sa.select(sa.func.count()).select_from(alerts).where(*where)).scalar_one()
    query = sa.select(*[alerts.c[n] for n in QUEUE_COLUMNS]).where(*where).order_by(*SORTS[sort]).limit(size).offset(page * size)
    frame = _frame(conn.execute(query).mappings().all(), QUEUE_COLUMNS, ("first_ts", "last_ts"))
    frame["signals"] = [", ".join(s["name"] for s in json.loads(r)["signals"][:3]) for r in frame["record"]]
    return frame.drop(columns="record"), int(total)


def agencies(conn: Connection) -> list[str]:
    return list(conn.execute(sa.select(alerts.c.agency).distinct().order_by(alerts.c.agency)).scalars())


def alert(conn: Connection, alert_id: str) -> dict | None:
    """The alert record (spec section 5) with its review state."""
    row = conn.execute(sa.select(alerts.c.record, alerts.c.status, alerts.c.assignee, alerts.c.updated_at)
                       .where(alerts.c.alert_id == alert_id)).one_or_none()
    if row is None:
        return None
    record = json.loads(row.record)
    record.update(status=row.status, assignee=row.assignee or "", updated_at=row.updated_at)
    return record


def searches_by_id(conn: Connection, search_ids: Sequence[str]) -> pd.DataFrame:
    rows: list = []
    for start in range(0, len(search_ids), ID_CHUNK):
        chunk = list(search_ids[start:start + ID_CHUNK])
        rows += conn.execute(sa.select(searches).where(searches.c.search_id.in_(chunk))).mappings().all()
    return _frame(rows, SEARCH_COLUMNS, ("ts", "window_start", "window_end")).sort_values("ts", kind="stable").reset_index(drop=True)


def user_searches(conn: Connection, user_id: str, agency: str, start: datetime, end: datetime, limit: int = 20_000) -> pd.DataFrame:
    """One account's searches in a period (newest ``limit``), for its timeline and baseline."""
    query = sa.select(searches).where(searches.c.user_id == user_id, searches.c.agency == agency,
                                      searches.c.ts >= start, searches.c.ts < end).order_by(searches.c.ts.desc()).limit(limit)
    frame = _frame(conn.execute(query).mappings().all(), SEARCH_COLUMNS, ("ts", "window_start", "window_end"))
    return frame.iloc[::-1].reset_index(drop=True)


def last_search(conn: Connection, user_id: str, agency: str) -> datetime | None:
    value = conn.execute(sa.select(sa.func.max(searches.c.ts)).where(searches.c.user_id == user_id,
                                                                      searches.c.agency == agency)).scalar()
    return None if value is None else utc(pd.Series([value])).iloc[0].to_pydatetime()


def plate_histories(conn: Connection, plates: Sequence[str], limit: int = 20_000) -> pd.DataFrame:
    """Who searched these plates, when and with what case: per plate and account. A withheld
    plate (``***``) is none: its searches are of any number of plates."""
    plates = [p for p in plates if p and p != WITHHELD]
    if not plates:
        return pd.DataFrame(columns=["plate", "user_id", "agency", "searches", "with_case", "first_ts", "last_ts"])
    s = searches.c
    query = (sa.select(s.plate, s.user_id, s.agency, sa.func.count().label("searches"),
                       sa.func.count(s.case_number).label("with_case"),
                       sa.func.min(s.ts).label("first_ts"), sa.func.max(s.ts).label("last_ts"))
             .where(s.plate.in_(plates)).group_by(s.plate, s.user_id, s.agency)
             .order_by(s.plate, sa.func.count().desc()).limit(limit))
    return _frame(conn.execute(query).mappings().all(), ["plate", "user_id", "agency", "searches", "with_case", "first_ts", "last_ts"],
                  ("first_ts", "last_ts"))


def peer_counts(conn: Connection, agency: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Searches per account of one agency in a period: the peers a user's volume is set against."""
    s = searches.c
    query = sa.select(s.user_id, sa.func.count().label("searches")).where(s.agency == agency, s.ts >= start, s.ts < end) \
        .group_by(s.user_id)
    return _frame(conn.execute(query).mappings().all(), ["user_id", "searches"])


def user_alerts(conn: Connection, user_id: str, agency: str) -> pd.DataFrame:
    c = alerts.c
    query = sa.select(c.alert_id, c.severity, c.score, c.status, c.assignee, c.pattern, c.first_ts, c.last_ts, c.n_searches) \
        .where(c.user_id == user_id, c.agency == agency).order_by(c.first_ts.desc()).limit(500)
    return _frame(conn.execute(query).mappings().all(),
                  ["alert_id", "severity", "score", "status", "assignee", "pattern", "first_ts", "last_ts", "n_searches"],
                  ("first_ts", "last_ts"))


SUPPRESSION_COLUMNS = ("rule_id", "user_id", "agency", "signals", "plate", "site_id", "case_number", "starts", "expires", "reason",
                       "created_by", "created_at", "revoked_by", "revoked_at", "alert_id", "source", "applied_at")


def suppression_rules(conn: Connection, user_id: str | None = None, agency: str | None = None) -> pd.DataFrame:
    """The suppression rules in the store (of one account, where given), newest first, revoked ones included:
    those written in the dashboard, and those of the rules files runs applied (``source``, ``applied_at``)."""
    rows = conn.execute(sa.select(suppressions).order_by(suppressions.c.created_at.desc())).mappings().all()
    out = []
    for row in rows:
        rule = json.loads(row["rule"])
        if user_id is None or (rule.get("user_id", "") == user_id and rule.get("agency", "") == agency):
            out.append({**{k: rule.get(k, "") for k in ("user_id", "agency", "plate", "site_id", "case_number", "starts", "expires", "reason")},
                        "signals": ", ".join(rule["signals"]), **{k: row[k] for k in ("rule_id", "created_by", "created_at",
                                                                                       "revoked_by", "revoked_at", "alert_id",
                                                                                       "source", "applied_at")}})
    return _frame(out, SUPPRESSION_COLUMNS, ("created_at", "revoked_at", "applied_at"))


def dispositions_of(conn: Connection, alert_ids: Sequence[str]) -> pd.DataFrame:
    d = dispositions.c
    rows: list = []
    for start in range(0, len(alert_ids), ID_CHUNK):
        query = sa.select(d.alert_id, d.created_at, d.reviewer, d.disposition, d.note) \
            .where(d.alert_id.in_(list(alert_ids[start:start + ID_CHUNK]))).order_by(d.id)
        rows += conn.execute(query).mappings().all()
    return _frame(rows, ["alert_id", "created_at", "reviewer", "disposition", "note"], ("created_at",))


def users_with_alerts(conn: Connection, limit: int = 1000) -> pd.DataFrame:
    c = alerts.c
    query = sa.select(c.user_id, c.agency, sa.func.count().label("alerts")).group_by(c.user_id, c.agency) \
        .order_by(sa.func.count().desc(), c.user_id).limit(limit)
    return _frame(conn.execute(query).mappings().all(), ["user_id", "agency", "alerts"])


@dataclass(frozen=True)
class Period:
    """The overview's window over alert start times (and search times); open ends allowed."""

    start: date | None = None
    end: date | None = None

    def on(self, column: sa.ColumnElement) -> list[sa.ColumnElement[bool]]:
        clauses = []
        if self.start:
            clauses.append(column >= day_start(self.start))
        if self.end:
            clauses.append(column <= day_end(self.end))
        return clauses


def alerts_by_day(conn: Connection, period: Period) -> pd.DataFrame:
    c = alerts.c
    day = sa.func.date(c.first_ts)
    query = sa.select(day.label("day"), c.severity, sa.func.count().label("alerts")).where(*period.on(c.first_ts)) \
        .group_by(day, c.severity)
    frame = _frame(conn.execute(query).mappings().all(), ["day", "severity", "alerts"])
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def alerts_by(conn: Connection, period: Period, column: str) -> pd.DataFrame:
    """Alert counts per agency, status or pattern."""
    col = alerts.c[column]
    query = sa.select(col, sa.func.count().label("alerts")).where(*period.on(alerts.c.first_ts)).group_by(col) \
        .order_by(sa.func.count().desc())
    return _frame(conn.execute(query).mappings().all(), [column, "alerts"])


def signal_counts(conn: Connection, period: Period) -> pd.DataFrame:
    """Alerts per signal, unnesting the record's signal list in the database."""
    bounds = {"start": day_start(period.start) if period.start else None, "end": day_end(period.end) if period.end else None}
    if conn.dialect.name == "postgresql":
        source = "alerts, jsonb_array_elements(CAST(alerts.record AS jsonb) -> 'signals') AS s"
        name = "s ->> 'name'"
    else:
        source = "alerts, json_each(alerts.record, '$.signals') AS s"
        name = "json_extract(s.value, '$.name')"
    where = ["1 = 1"]
    params: dict[str, datetime] = {}
    for key, op in (("start", ">="), ("end", "<=")):
        if bounds[key] is not None:
            where.append(f"alerts.first_ts {op} :{key}")
            params[key] = bounds[key]
    query = sa.text(f"SELECT {name} AS signal, count(*) AS alerts FROM {source} WHERE {' AND '.join(where)} "
                    f"GROUP BY {name} ORDER BY count(*) DESC").bindparams(
        *[sa.bindparam(k, type_=alerts.c.first_ts.type) for k in params])
    return _frame(conn.execute(query, params).mappings().all(), ["signal", "alerts"])


def search_origins(conn: Connection, period: Period) -> pd.DataFrame:
    """Searches per day and agency state: where the network's users come from."""
    s = searches.c
    day = sa.func.date(s.ts)
    query = sa.select(day.label("day"), s.agency_state, sa.func.count().label("searches")).where(*period.on(s.ts)) \
        .group_by(day, s.agency_state)
    frame = _frame(conn.execute(query).mappings().all(), ["day", "agency_state", "searches"])
    frame["day"] = pd.to_datetime(frame["day"])
    frame["agency_state"] = frame["agency_state"].fillna("").str.upper()
    return frame


def classify_origins(frame: pd.DataFrame, home_state: str | None) -> tuple[pd.DataFrame, str | None]:
    """Label each row in-state, out-of-state, federal or unknown; the home state defaults to the commonest."""
    if home_state is None:
        states = frame[~frame["agency_state"].isin(["", "US"])].groupby("agency_state")["searches"].sum()
        home_state = str(states.idxmax()) if len(states) else None
    st = frame["agency_state"]
    origin = pd.Series("out-of-state", index=frame.index)
    origin[st == (home_state or "")] = "in-state"
    origin[st == "US"] = "federal"
    origin[st == ""] = "unknown"
    return frame.assign(origin=origin), home_state
