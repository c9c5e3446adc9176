"""The dashboard's own audit trail: the tool that polices searches is itself policed.

Every view, reveal, assignment, disposition, export and sign-in goes into the
store's ``access_log`` before the data is shown or changed, so a failure to log
means nothing is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dashboard.auth import Viewer, require
from detector.store import access_log

ACTIONS = (
    "login", "login_failed", "logout", "view_queue", "view_alert", "view_user", "view_overview", "view_access_log", "view_suppressions",
    "reveal", "assign", "disposition", "export", "suppress", "revoke",
)


def record(conn: Connection, viewer: Viewer, action: str, alert_id: str | None = None, detail: str = "") -> None:
    """Append one entry; callers pass the connection of the change it documents, so both commit or neither."""
    if action not in ACTIONS:
        raise ValueError(f"unknown access-log action {action!r}")
    conn.execute(access_log.insert().values(
        ts=datetime.now(timezone.utc), username=viewer.username[:255], role=viewer.role, action=action,
        alert_id=alert_id, detail=detail,
    ))


def log(engine: Engine, viewer: Viewer, action: str, alert_id: str | None = None, detail: str = "") -> None:
    with engine.begin() as conn:
        record(conn, viewer, action, alert_id, detail)


@dataclass(frozen=True)
class LogFilter:
    usernames: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    alert_id: str = ""
    start: date | None = None
    end: date | None = None

    def where(self) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        if self.usernames:
            clauses.append(access_log.c.username.in_(self.usernames))
        if self.actions:
            clauses.append(access_log.c.action.in_(self.actions))
        if self.alert_id:
            clauses.append(access_log.c.alert_id == self.alert_id)
        if self.start:
            clauses.append(access_log.c.ts >= datetime.combine(self.start, time.min, timezone.utc))
        if self.end:
            clauses.append(access_log.c.ts < datetime.combine(self.end, time.max, timezone.utc))
        return clauses


def read(engine: Engine, viewer: Viewer, flt: LogFilter, limit: int = 100, offset: int = 0) -> tuple[pd.DataFrame, int]:
    """A page of the log, newest first, and the number of entries matching."""
    require(viewer, "access_log")
    where = flt.where()
    query = sa.select(access_log).where(*where).order_by(access_log.c.id.desc()).limit(limit).offset(offset)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(access_log).where(*where)).scalar_one()
        frame = pd.DataFrame(conn.execute(query).mappings().all(), columns=[c.name for c in access_log.columns])
    return frame, int(total)


def usernames(engine: Engine, viewer: Viewer) -> list[str]:
    require(viewer, "access_log")
    with engine.connect() as conn:
        return list(conn.execute(sa.select(access_log.c.username).distinct().order_by(access_log.c.username)).scalars())


def trail(conn: Connection, alert_id: str) -> pd.DataFrame:
    """Everyone who touched one alert: the chain of custody a case file carries."""
    query = sa.select(access_log.c.ts, access_log.c.username, access_log.c.role, access_log.c.action, access_log.c.detail) \
        .where(access_log.c.alert_id == alert_id).order_by(access_log.c.id)
    return pd.DataFrame(conn.execute(query).mappings().all(), columns=["ts", "username", "role", "action", "detail"])
