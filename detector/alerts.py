"""Grouping flagged searches into alerts: one alert, one episode for a reviewer to judge.

A flagged search joins the open alert of its episode (the same user on the same
plate, site, circle or own activity; or many users on one plate) unless that
alert went quiet for longer than the episode's gap. Alert ids derive from the
episode key and the search that opened it, so a replay and a stream name alerts alike.

Opening an alert takes more evidence than joining one (hysteresis, as alarm systems
do it): an episode opens once its evidence, the alert score of its flagged searches so
far, reaches ``OPEN_THRESHOLD``; one strong search does it, so do several weaker
ones of the same episode. Until then its flagged searches belong to no alert: one
search just over the flag threshold is the commonest coincidence in a busy account's
log, and a reviewer's queue should not hold it alone. The episode holds them meanwhile,
and they join the alert it opens: a stalker's first lookups are part of the stalking,
not a prelude to it. Those of earlier batches come back as late scores
rows (``Alerter.add``), which a replay writes in place of the rows it held back and a
stream's store upserts.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from detector.explain import SIGNAL_TITLES, pseudonym, signal_detail, summary
from detector.reasons import PROTECTED, names_of
from detector.rules import PATTERN_SIGNALS, SIGNAL_INDEX, SIGNALS
from detector.schema import NS_DAY
from detector.scoring import OPEN_THRESHOLD

# How long an episode may go quiet before a new flagged search opens a new alert.
GAP_DAYS = {"person": 45.0, "site": 30.0, "user": 3.0, "swarm": 21.0}
PATTERN_COLUMNS = np.array([SIGNAL_INDEX[s] for s in PATTERN_SIGNALS])
# Flagged searches an episode of these patterns needs before it opens: the lookup that tips a
# run's decayed count over the bar is the run's edge, not yet a run.
MIN_SEARCHES = {"informal_sharing": 2}
COUNTERS = ("nocase", "vague", "offshift", "nationwide", "far_new")
MAXIMA = ("up_count", "up_days", "circle_plates", "circle_repeat", "site_days", "burst", "plate_users", "plate_users_window",
          "plate_agencies", "usual_day", "far_burst", "plate_team", "circle_team", "peak_hour")
# What an alert reads of each search it takes in: all an episode keeps of a flagged search while it is not open yet.
JOINED = ("search_id", "t", "user_id", "reason_bits", "purpose_rule", "rare_surname", "site_category", *COUNTERS, *MAXIMA)


def blank_stats() -> dict:
    """An episode's counters and maxima before its first search."""
    return {c: 0 for c in COUNTERS} | {m: 0.0 for m in MAXIMA}


def episode_score(max_score: float, n: int) -> float:
    """An episode's score: its strongest search, raised by how many searches it holds."""
    return round(min(100.0, max_score + 4.0 * math.log2(n)), 2)


def severity_of(score: float, signals: set[str]) -> str:
    if score >= 95 or ("forbidden_purpose" in signals and score >= 80):
        return "critical"
    if score >= 85:
        return "high"
    if score >= 70:
        return "medium"
    return "low"


@dataclass
class Alert:
    alert_id: str
    key: str
    pattern: str
    user_id: str
    agency: str
    first_ns: int
    last_ns: int
    search_ids: list[str] = field(default_factory=list)
    users: dict[str, int] = field(default_factory=dict)
    attr: list[float] = field(default_factory=lambda: [0.0] * len(SIGNALS))
    max_score: float = 0.0
    stats: dict = field(default_factory=dict)
    pending: int = 0  # flagged searches of an episode not yet open (``search_ids`` stays empty meanwhile)
    held: list[dict] = field(default_factory=list)  # those searches (``JOINED``, score, attr), to join the alert it opens

    def to_record(self) -> dict:
        """The alert in the form of spec section 5 (plus the episode's extra fields)."""
        n = len(self.search_ids)
        score = episode_score(self.max_score, n)
        total = sum(self.attr) or 1.0
        # weight: the signal's share of the evidence behind the alert (shares sum to 1)
        weights = {s: self.attr[i] / total for i, s in enumerate(SIGNALS) if self.attr[i] / total >= 0.005}
        ctx = dict(self.stats)
        ctx.update(n=n, user=self.user_id or "(redacted)", agency=self.agency,
                   first_day=pd.Timestamp(self.first_ns, tz="UTC").strftime("%Y-%m-%d"),
                   last_day=pd.Timestamp(self.last_ns, tz="UTC").strftime("%Y-%m-%d"),
                   nocase_share=ctx["nocase"] / n)
        ranked = sorted(weights.items(), key=lambda kv: -kv[1])
        signals = [{"name": s, "weight": round(w, 3), "title": SIGNAL_TITLES[s], "detail": signal_detail(s, ctx)} for s, w in ranked]
        users = sorted(self.users, key=lambda u: -self.users[u])
        return {
            "alert_id": self.alert_id,
            "severity": severity_of(score, set(weights)),
            "score": score,
            "user_id": self.user_id,
            "agency": self.agency,
            "first_ts": pd.Timestamp(self.first_ns, tz="UTC").isoformat(),
            "last_ts": pd.Timestamp(self.last_ns, tz="UTC").isoformat(),
            "search_ids": list(self.search_ids),
            "signals": signals,
            "summary": summary(self.pattern, ctx),
            "pattern": self.pattern,
            "users": users,
            "target": ctx["target"],
        }


class Alerter:
    """Open episodes and the rule that adds flagged searches to them."""

    def __init__(self, open_threshold: float = OPEN_THRESHOLD) -> None:
        self.open_threshold = open_threshold
        self.open: dict[str, Alert] = {}  # by episode key; those with ``pending`` searches are not open yet

    def add(self, ctx: pd.DataFrame, score: np.ndarray, attr: np.ndarray,
            threshold: float) -> tuple[np.ndarray, list[Alert], pd.DataFrame]:
        """Alert id per search ('' when it belongs to no alert), the alerts this batch touched, and
        the searches of earlier batches that joined an alert now, as scores rows
        (``search_id, score, flagged, alert_id``) that replace the ones given out before.

        ``ctx`` is the engine's per-search frame (ids, keys, feature columns), in time order.
        """
        alert_ids = np.full(len(ctx), "", dtype=object)
        touched: dict[str, Alert] = {}
        late: list[tuple[str, float, str]] = []
        flagged = np.flatnonzero(score >= threshold)
        if not len(flagged):
            return alert_ids, [], _scores_rows(late)
        # only the flagged rows leave Arrow for Python objects
        rows = ctx.take(flagged)
        cols = {c: rows[c].to_numpy() for c in rows.columns}
        here: dict[str, int] = {}  # rows of this batch an episode holds, by search id
        for k, i in enumerate(flagged.tolist()):
            pattern = PATTERN_SIGNALS[int(np.argmax(attr[i, PATTERN_COLUMNS]))]
            scope = SIGNALS[pattern]
            key = self._key(scope, cols, k)
            t = int(cols["t"][k])
            row = {c: _plain(cols[c][k]) for c in JOINED}
            alert = self.open.get(key)
            if alert is None or t - alert.last_ns > GAP_DAYS[scope] * NS_DAY:
                alert = self.open[key] = Alert("", key, pattern, "", "", t, t)
            if not alert.search_ids:  # not open yet: count its evidence
                alert.pending += 1
                alert.max_score, alert.last_ns = max(alert.max_score, float(score[i])), max(alert.last_ns, t)
                if (episode_score(alert.max_score, alert.pending) < self.open_threshold
                        or alert.pending < MIN_SEARCHES.get(pattern, 1)):
                    alert.held.append(row | {"score": float(score[i]), "attr": attr[i].tolist()})
                    here[row["search_id"]] = i
                    continue
                held = alert.held
                alert = Alert(
                    alert_id="A" + hashlib.sha1(f"{key}|{cols['search_id'][k]}".encode()).hexdigest()[:15],
                    key=key, pattern=pattern, user_id=str(cols["user_id"][k]), agency=str(cols["agency"][k]),
                    first_ns=t, last_ns=t,
                    stats=blank_stats() | {
                        "target": pseudonym(str(cols["plate"][k])) if cols["plate"][k] else "no plate",
                        "site_category": str(cols["site_category"][k]), "reason_categories": [],
                        "agency_state": str(cols["agency_state"][k]), "agency_kind": str(cols["agency_kind"][k]),
                        "rule": cols["sharing_rule"][k], "purpose_rule": "", "rare_surname": False,
                    },
                )
                self.open[key] = alert
                for earlier in held:
                    self._join(alert, earlier, earlier["score"], earlier["attr"])
                    j = here.get(earlier["search_id"])
                    if j is None:
                        late.append((earlier["search_id"], earlier["score"], alert.alert_id))
                    else:
                        alert_ids[j] = alert.alert_id
            self._join(alert, row, score[i], attr[i])
            alert_ids[i] = alert.alert_id
            touched[alert.alert_id] = alert
        return alert_ids, list(touched.values()), _scores_rows(late)

    @staticmethod
    def _key(scope: str, cols: dict, k: int) -> str:
        if scope == "swarm":
            return f"swarm|{cols['plate'][k]}"
        target = {"person": "person", "site": "site_id"}.get(scope)
        return f"{cols['user_key'][k]}|{scope}" + (f"|{cols[target][k]}" if target else "")

    @staticmethod
    def _join(alert: Alert, row: dict, score: float, attr: np.ndarray | list[float]) -> None:
        """Add one search (its ``JOINED`` values) to an open alert."""
        alert.search_ids.append(str(row["search_id"]))
        alert.last_ns = max(alert.last_ns, row["t"])
        alert.first_ns = min(alert.first_ns, row["t"])
        user = str(row["user_id"])
        alert.users[user] = alert.users.get(user, 0) + 1
        alert.attr = [a + float(b) for a, b in zip(alert.attr, attr)]
        alert.max_score = max(alert.max_score, float(score))
        st = alert.stats
        for c in COUNTERS:
            st[c] += int(bool(row[c]))
        for m in MAXIMA:
            v = float(row[m])
            if not math.isnan(v):
                st[m] = max(st[m], v)
        st["max_up_count"], st["max_up_days"], st["max_circle"] = st["up_count"], st["up_days"], st["circle_plates"]
        st["max_site_days"], st["max_burst"], st["max_plate_users"] = st["site_days"], st["burst"], max(st["plate_users"], st["plate_users_window"])
        st["max_plate_agencies"] = st["plate_agencies"]
        cats = set(st["reason_categories"]) | {c for c in names_of(int(row["reason_bits"])) if c in PROTECTED}
        st["reason_categories"] = sorted(cats)
        if row["purpose_rule"]:
            st["purpose_rule"] = row["purpose_rule"]
        st["rare_surname"] = st["rare_surname"] or bool(row["rare_surname"])
        if row["site_category"]:
            st["site_category"] = str(row["site_category"])

    def close_idle(self, now_ns: int) -> None:
        """Forget episodes that can no longer be extended, so state stays bounded."""
        longest = max(GAP_DAYS.values()) * NS_DAY
        self.open = {k: a for k, a in self.open.items() if now_ns - a.last_ns <= longest}


def _plain(value: object) -> object:
    """A numpy scalar as the Python value (an episode's held searches are checkpointed as JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def _scores_rows(rows: list[tuple[str, float, str]]) -> pd.DataFrame:
    """(search id, score, alert id) of searches now in an alert, in the scores form."""
    ids, score, alert_ids = zip(*rows) if rows else ((), (), ())
    return pd.DataFrame({"search_id": pd.array(ids, dtype="str"), "score": np.round(np.array(score, dtype=np.float64), 2),
                         "flagged": np.ones(len(ids), dtype=bool), "alert_id": pd.array(alert_ids, dtype="str")})
