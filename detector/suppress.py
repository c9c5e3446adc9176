"""Suppression rules: a reviewer's scoped, expiring "this pattern is known and justified".

Some patterns are: a patrol beat that passes a clinic every day, an operation under one
case number, an officer assigned to watch one car. A rule names what it covers (a user,
an agency, a plate, a site or a case number: at least one, so that no rule blinds the
tool to a signal everywhere), which signals it silences there, why, and until when. Every
rule expires, at most ``MAX_DAYS`` after it starts, so that a justification is looked at
again rather than kept for good. Rules act on event time (the search's ``ts``): a replay
and a stream apply them alike, and a replay of last year's log applies last year's rules.

A rules file (YAML)::

    suppressions:
      - id: beat-7-clinic
        reason: Beat 7 patrols pass the clinic daily (approved, IA-2025-118)
        agency: Town PD
        site_id: clinic-12
        signals: [sensitive_site]
        starts: 2025-10-01
        expires: 2025-12-31      # a date covers that whole day (UTC)
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
import yaml

from detector.rules import SIGNAL_INDEX
from detector.schema import NS_DAY, normalize_plates
from detector.store import dialect_insert
from detector.store import suppressions as rules_table
from detector.validate import InputError


class RuleError(InputError):
    """A rule that cannot be taken: ``where`` it came from (a file and rule number, a form), and what is wrong."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"{where}: {detail}")
        self.detail = detail


# What a rule can be scoped by: columns of the detector's per-search context.
SCOPES = ("user_id", "agency", "plate", "site_id", "case_number")
FIELDS = ("id", "reason", "signals", "starts", "expires", *SCOPES)
MAX_DAYS = 366
# who ended a rules file's rule that the file no longer holds, as the dashboard lists it
DROPPED_BY = "rules file (no longer in it)"


@dataclass(frozen=True)
class SuppressionRule:
    """Silence ``signals`` on the searches that match every ``scope`` value, from ``starts_ns`` until ``expires_ns``."""

    rule_id: str
    reason: str
    signals: tuple[str, ...]
    scope: tuple[tuple[str, str], ...]
    starts_ns: int
    expires_ns: int

    def entry(self) -> dict:
        """The rule as an entry of a rules file (instants as UTC timestamps): ``parse_rule`` reads it back."""
        out = {"id": self.rule_id, "reason": self.reason, "signals": list(self.signals), **dict(self.scope)}
        for name, ns in (("starts", self.starts_ns), ("expires", self.expires_ns)):
            out[name] = pd.Timestamp(ns, tz="UTC").isoformat()
        return out

    def matches(self, ctx: pd.DataFrame) -> np.ndarray:
        t = ctx["t"].to_numpy()
        hit = (t >= self.starts_ns) & (t < self.expires_ns)
        for name, value in self.scope:
            if not hit.any():
                break
            hit &= (ctx[name] == value).to_numpy(dtype=bool)
        return hit


@dataclass
class Suppressions:
    """The rules in force, and how many searches each has touched so far."""

    rules: list[SuppressionRule] = field(default_factory=list)
    hits: Counter = field(default_factory=Counter)
    stored: frozenset[str] = frozenset()  # ids of the rules that came from the store
    source: str = ""  # the rules file the others came from
    ended: dict[str, SuppressionRule] = field(default_factory=dict)  # store rules taken out since, by id: still reported

    @property
    def from_file(self) -> list[SuppressionRule]:
        """The rules of the rules file (``source``), not those taken from the store."""
        return [r for r in self.rules if r.rule_id not in self.stored]

    def take_stored(self, rules: list[SuppressionRule]) -> tuple[int, int]:
        """The store's rules in place of those taken from it before (a file's stay): how many
        came and how many went. A running stream calls this again and again, so that what
        supervisors write or revoke in the dashboard takes effect without a restart. An id
        that a file's rule uses too is refused, so that counts stay apart."""
        own = self.from_file
        taken = {r.rule_id for r in own}
        clash = [r.rule_id for r in rules if r.rule_id in taken]
        if clash:
            raise InputError(f"suppression rule id(s) {', '.join(clash)} used both in the rules file and in the store")
        before = {r for r in self.rules if r.rule_id in self.stored}
        self.rules = own + rules
        self.stored = frozenset(r.rule_id for r in rules)
        self.ended = {i: r for i, r in ({r.rule_id: r for r in before} | self.ended).items() if i not in self.stored}
        return len(set(rules) - before), len(before - set(rules))

    def apply(self, ctx: pd.DataFrame, S: np.ndarray) -> None:
        """Zero the strengths each rule silences on the searches it covers (``S``: rows of ``ctx``)."""
        for rule in self.rules:
            rows = np.flatnonzero(rule.matches(ctx))
            if len(rows):
                S[np.ix_(rows, [SIGNAL_INDEX[s] for s in rule.signals])] = 0.0
                self.hits[rule.rule_id] += len(rows)

    def lines(self) -> list[str]:
        """What the rules did, for a run's summary."""
        return [f"suppression rule {r.rule_id}: {self.hits[r.rule_id]:,} searches ({', '.join(r.signals)}; {r.reason})"
                + (" (taken out of the store since)" if r.rule_id in self.ended else "")
                for r in [*self.rules, *self.ended.values()]]


def load_suppressions(path: str | Path) -> Suppressions:
    """The rules of a YAML file; every mistake is an ``InputError`` naming the file, the rule and the field."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the suppression rules ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from exc
    entries = doc.get("suppressions") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise InputError(f"{path}: expected a list under 'suppressions:'")
    rules, seen = [], set()
    for n, entry in enumerate(entries, 1):
        rule = parse_rule(entry, f"{path}: rule {n}")
        if rule.rule_id in seen:
            raise InputError(f"{path}: rule {n}: field 'id': {rule.rule_id!r} is used by an earlier rule")
        seen.add(rule.rule_id)
        rules.append(rule)
    return Suppressions(rules, source=str(path.resolve()))


def parse_rule(entry: object, where: str) -> SuppressionRule:
    """A rule from a rules-file entry; ``where`` starts each error message (a file and rule number, a form)."""
    if not isinstance(entry, dict):
        raise RuleError(where, f"expected a mapping of {', '.join(FIELDS)}")
    unknown = sorted(set(map(str, entry)) - set(FIELDS))
    if unknown:
        raise RuleError(where, f"unknown field(s) {', '.join(unknown)}; a rule has {', '.join(FIELDS)}")
    for name in ("id", "reason", "signals", "expires"):
        if entry.get(name) in (None, "", []):
            raise RuleError(where, f"field {name!r} is required")
    where = f"{where} ({entry['id']})"
    signals = entry["signals"] if isinstance(entry["signals"], list) else [entry["signals"]]
    bad = [str(s) for s in signals if s not in SIGNAL_INDEX and s != "all"]
    if bad:
        raise RuleError(where, f"field 'signals': unknown signal(s) {', '.join(bad)}; "
                               f"use 'all' or names of {', '.join(SIGNAL_INDEX)}")
    scope = {name: str(entry[name]).strip() for name in SCOPES if str(entry.get(name) or "").strip()}
    if not scope:
        raise RuleError(where, f"no scope: give at least one of {', '.join(SCOPES)} (a signal is not silenced everywhere)")
    if "plate" in scope:
        scope["plate"] = str(normalize_plates(pd.Series([scope["plate"]])).iloc[0])
    starts = _instant(entry.get("starts"), where, "starts", end_of_day=False) if entry.get("starts") else None
    expires = _instant(entry["expires"], where, "expires", end_of_day=True)
    if starts is not None and expires <= starts:
        raise RuleError(where, "field 'expires' is not after 'starts'")
    # a rule without a start runs from the longest it may last before its expiry
    starts = expires - MAX_DAYS * NS_DAY if starts is None else starts
    if expires - starts > MAX_DAYS * NS_DAY:
        raise RuleError(where, f"field 'expires': a rule lasts at most {MAX_DAYS} days; renew it when it runs out")
    names = tuple(SIGNAL_INDEX) if "all" in signals else tuple(dict.fromkeys(map(str, signals)))
    return SuppressionRule(str(entry["id"]), str(entry["reason"]), names, tuple(scope.items()), starts, expires)


def _instant(value: object, where: str, name: str, end_of_day: bool) -> int:
    """Nanoseconds UTC of a date (its start, or with ``end_of_day`` its end) or of a timestamp."""
    text = str(value).strip()
    try:
        ts = pd.Timestamp(text)
    except ValueError as exc:
        raise RuleError(where, f"field {name!r}: expected a date (2025-12-31) or an ISO timestamp, got {text!r}") from exc
    if end_of_day and len(text) == 10:
        ts += pd.Timedelta(days=1)
    return _utc_ns(ts)


def _utc_ns(ts: pd.Timestamp | datetime) -> int:
    """Nanoseconds of an instant, taken as UTC where it names no zone (as SQLite hands timestamps back)."""
    ts = pd.Timestamp(ts)
    return int((ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).value)


def save_rule(conn: sa.Connection, rule: SuppressionRule, created_by: str, alert_id: str | None = None) -> None:
    """Keep a rule written in the dashboard in the store, where replays and streams on that store read it."""
    conn.execute(rules_table.insert().values(rule_id=rule.rule_id, rule=json.dumps(rule.entry()), alert_id=alert_id,
                                             created_by=created_by, created_at=datetime.now(timezone.utc)))


def revoke_rule(conn: sa.Connection, rule_id: str, revoked_by: str) -> bool:
    """End a rule written in the dashboard now (it stays on the record); whether there was such a rule
    in force. A rules file's rule ends where it is written, in the file."""
    done = conn.execute(rules_table.update().where(rules_table.c.rule_id == rule_id, rules_table.c.revoked_at.is_(None),
                                                   rules_table.c.source.is_(None))
                        .values(revoked_by=revoked_by, revoked_at=datetime.now(timezone.utc)))
    return done.rowcount == 1


def stored_rules(conn: sa.Connection) -> list[SuppressionRule]:
    """The rules supervisors keep in the store, each in force until its expiry or its revocation,
    whichever came first (a replay of the time before a revocation still applies the rule then
    in force). Not the rules files' (``record_file_rules``): a run applies only the file it is given."""
    rows = conn.execute(sa.select(rules_table.c.rule_id, rules_table.c.rule, rules_table.c.revoked_at)
                        .where(rules_table.c.source.is_(None))
                        .order_by(rules_table.c.created_at, rules_table.c.rule_id)).all()
    rules = []
    for rule_id, text, revoked_at in rows:
        rule = parse_rule(json.loads(text), f"store: suppression rule {rule_id}")
        if revoked_at is not None:
            rule = replace(rule, expires_ns=min(rule.expires_ns, _utc_ns(revoked_at)))
        if rule.expires_ns > rule.starts_ns:
            rules.append(rule)
    return rules


def record_file_rules(conn: sa.Connection, suppressions: Suppressions) -> None:
    """Keep a rules file's rules in the store, marked with the file and the time a run last applied
    them: the dashboard lists them beside the supervisors' own, since a rule can hide misuse as
    well as noise and every reviewer should see what is silenced. A rule the file changed since
    is kept as it now reads; one the file no longer holds is marked revoked by it (and taken up
    again if it comes back); many stream instances may record the same file at once."""
    now = datetime.now(timezone.utc)
    held = suppressions.from_file
    if suppressions.source:
        conn.execute(rules_table.update()
                     .where(rules_table.c.source == suppressions.source, rules_table.c.revoked_at.is_(None),
                            rules_table.c.rule_id.not_in([rule.rule_id for rule in held]))
                     .values(revoked_by=DROPPED_BY, revoked_at=now))
    for rule in held:
        values = {"rule": json.dumps(rule.entry()), "source": suppressions.source, "applied_at": now,
                  "revoked_by": None, "revoked_at": None}
        stmt = dialect_insert(conn, rules_table).values(rule_id=rule.rule_id, created_by="rules file", created_at=now, **values)
        # a dashboard rule of the same id stays as it is: the run refused to start over it already
        conn.execute(stmt.on_conflict_do_update(index_elements=[rules_table.c.rule_id], set_=values,
                                                where=rules_table.c.source.is_not(None)))
