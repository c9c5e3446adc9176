"""Review decisions: assigning an alert and recording a disposition.

Each change, its effect on the alert and its access-log entry commit in one
transaction, so the queue, the feedback layer and the audit trail never disagree.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard import audit
from dashboard.auth import Viewer, require
from detector.store import DISPOSITIONS, alerts, dispositions


class ReviewError(Exception):
    """A decision the dashboard refuses, with the reason shown to the reviewer."""


def _alert_users(conn: sa.Connection, alert_id: str) -> list[str]:
    record = conn.execute(sa.select(alerts.c.record).where(alerts.c.alert_id == alert_id)).scalar_one_or_none()
    if record is None:
        raise ReviewError(f"no alert {alert_id}")
    data = json.loads(record)
    return [data["user_id"], *data.get("users", [])]


def assign(engine: Engine, viewer: Viewer, alert_id: str, assignee: str) -> None:
    """Hand the alert to ``assignee`` ('' releases it)."""
    require(viewer, "assign")
    with engine.begin() as conn:
        _alert_users(conn, alert_id)
        conn.execute(alerts.update().where(alerts.c.alert_id == alert_id)
                     .values(assignee=assignee or None, updated_at=datetime.now(timezone.utc)))
        audit.record(conn, viewer, "assign", alert_id, f"assigned to {assignee}" if assignee else "released")


def dispose(engine: Engine, viewer: Viewer, alert_id: str, disposition: str, note: str) -> None:
    """Record a decision; the newest disposition is the alert's status."""
    require(viewer, "dispose")
    if disposition not in DISPOSITIONS:
        raise ReviewError(f"unknown disposition {disposition!r}")
    note = note.strip()
    if not note:
        raise ReviewError("a disposition needs a note saying what it rests on")
    with engine.begin() as conn:
        if viewer.username in _alert_users(conn, alert_id):
            raise ReviewError("this alert is about your own account: another reviewer has to decide it")
        now = datetime.now(timezone.utc)
        conn.execute(dispositions.insert().values(alert_id=alert_id, disposition=disposition, note=note,
                                                  reviewer=viewer.username, created_at=now))
        conn.execute(alerts.update().where(alerts.c.alert_id == alert_id).values(status=disposition, updated_at=now))
        audit.record(conn, viewer, "disposition", alert_id, f"{disposition}: {note}")
