"""Review decisions: assigning an alert, recording a disposition, suppressing a known pattern.

Each change, its effect on the alert and its access-log entry commit in one
transaction, so the queue, the feedback layer and the audit trail never disagree.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dashboard import audit
from dashboard.auth import Viewer, require
from detector.explain import pseudonym
from detector.redaction import WITHHELD
from detector.store import DISPOSITIONS, alerts, dispositions, searches
from detector.suppress import RuleError, SuppressionRule, parse_rule, revoke_rule, save_rule


class ReviewError(Exception):
    """A decision the dashboard refuses, with the reason shown to the reviewer."""


def _alert_record(conn: sa.Connection, alert_id: str) -> dict:
    record = conn.execute(sa.select(alerts.c.record).where(alerts.c.alert_id == alert_id)).scalar_one_or_none()
    if record is None:
        raise ReviewError(f"no alert {alert_id}")
    return json.loads(record)


def _subjects(record: dict) -> list[str]:
    """The officers' accounts an alert is about: no one decides or suppresses an alert about their own."""
    return [record["user_id"], *record.get("users", [])]


def assign(engine: Engine, viewer: Viewer, alert_id: str, assignee: str) -> None:
    """Hand the alert to ``assignee`` ('' releases it)."""
    require(viewer, "assign")
    with engine.begin() as conn:
        _alert_record(conn, alert_id)
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
        if viewer.username in _subjects(_alert_record(conn, alert_id)):
            raise ReviewError("this alert is about your own account: another reviewer has to decide it")
        now = datetime.now(timezone.utc)
        conn.execute(dispositions.insert().values(alert_id=alert_id, disposition=disposition, note=note,
                                                  reviewer=viewer.username, created_at=now))
        conn.execute(alerts.update().where(alerts.c.alert_id == alert_id).values(status=disposition, updated_at=now))
        audit.record(conn, viewer, "disposition", alert_id, f"{disposition}: {note}")


def _target_plate(conn: sa.Connection, record: dict) -> str:
    """The plate an alert is about: the one of its searches whose pseudonym the alert names."""
    rows = conn.execute(sa.select(searches.c.plate).distinct()
                        .where(searches.c.search_id.in_(record["search_ids"]), searches.c.plate != "",
                               searches.c.plate != WITHHELD)).scalars()
    for plate in rows:
        if pseudonym(plate) == record.get("target"):
            return plate
    raise ReviewError("this store does not hold the alert's searches, so its plate cannot be named "
                      "(replay --store-searches keeps them, a stream always does)")


def suppress(engine: Engine, viewer: Viewer, alert_id: str, signals: list[str], expires: date, reason: str,
             scope: dict[str, str], only_target: bool = False) -> SuppressionRule:
    """Write a suppression rule from an alert: its account, and whatever else ``scope`` narrows it to;
    with ``only_target``, the alert's plate too (an officer assigned to watch one car).

    The rule covers the alert's account (user id and agency) and starts now; replays on this
    store apply it from their start, running streams within their ``--rules-interval``
    (``detector.suppress``).
    """
    require(viewer, "suppress")
    reason = reason.strip()
    if not reason:
        raise ReviewError("a suppression needs a reason saying why the pattern is justified")
    with engine.begin() as conn:
        record = _alert_record(conn, alert_id)
        if viewer.username in _subjects(record):
            raise ReviewError("this alert is about your own account: another supervisor has to decide it")
        entry = {"id": f"dash-{uuid.uuid4().hex[:12]}", "reason": reason, "signals": signals,
                 "starts": datetime.now(timezone.utc).isoformat(), "expires": expires.isoformat(),
                 "user_id": record["user_id"], "agency": record["agency"], **{k: v for k, v in scope.items() if v.strip()}}
        if only_target:
            entry["plate"] = _target_plate(conn, record)
        try:
            rule = parse_rule(entry, "suppression")
        except RuleError as exc:
            raise ReviewError(exc.detail) from exc
        save_rule(conn, rule, viewer.username, alert_id)
        audit.record(conn, viewer, "suppress", alert_id,
                     f"{rule.rule_id}: {', '.join(rule.signals)} until {expires.isoformat()}: {reason}")
    return rule


def revoke(engine: Engine, viewer: Viewer, rule_id: str) -> None:
    """End a suppression rule now; it stays in the store, marked with who revoked it and when."""
    require(viewer, "suppress")
    with engine.begin() as conn:
        if not revoke_rule(conn, rule_id, viewer.username):
            raise ReviewError(f"no suppression rule {rule_id} in force")
        audit.record(conn, viewer, "revoke", None, rule_id)