"""Grouping flagged searches into alerts: one alert, one episode for a reviewer to judge.

A flagged search joins the open alert of its episode (the same user on the same
plate, site, circle or own activity; or many users on one plate) unless that
alert went quiet for longer than the episode's gap. Alert ids derive from the
episode key and the search that opened it, so a replay and a stream name alerts alike.

Opening an alert takes more evidence than joining one (hysteresis, as alarm systems
do it): an episode opens once its evidence, the alert score of its flagged searches so
far, reaches ``OPEN_THRESHOLD``; one strong search does it, so do several weaker
ones of the same episode. Until then its searches are scored but belong to no alert:
one search just over the flag threshold is the commonest coincidence in a busy
account's log, and a reviewer's queue should not hold it alone.
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
          "plate_agencies", "usual_day", "far_burst")


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

    def add(self, ctx: pd.DataFrame, score: np.ndarray, attr: np.ndarray, threshold: float) -> tuple[np.ndarray, list[Alert]]:
        """Alert id per search ('' when it belongs to no alert) and the alerts this batch touched.

        ``ctx`` is the engine's per-search frame (ids, keys, feature columns), in time order.
        """
        alert_ids = np.full(len(ctx), "", dtype=object)
        touched: dict[str, Alert] = {}
        flagged = np.flatnonzero(score >= threshold)
        if not len(flagged):
            return alert_ids, []
        # only the flagged rows leave Arrow for Python objects
        rows = ctx.take(flagged)
        cols = {c: rows[c].to_numpy() for c in rows.columns}
        for k, i in enumerate(flagged.tolist()):
            pattern = PATTERN_SIGNALS[int(np.argmax(attr[i, PATTERN_COLUMNS]))]
            scope = SIGNALS[pattern]
            key = self._key(scope, cols, k)
            t = int(cols["t"][k])
            alert = self.open.get(key)
            if alert is None or t - alert.last_ns > GAP_DAYS[scope] * NS_DAY:
                alert = self.open[key] = Alert("", key, pattern, "", "", t, t)
            if not alert.search_ids:  # not open yet: count its evidence
                alert.pending += 1
                alert.max_score, alert.last_ns = max(alert.max_score, float(score[i])), max(alert.last_ns, t)
                if (episode_score(alert.max_score, alert.pending) < self.open_threshold
                        or alert.pending < MIN_SEARCHES.get(pattern, 1)):
                    continue
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
            self._join(alert, cols, k, score[i], attr[i])
            alert_ids[i] = alert.alert_id
            touched[alert.alert_id] = alert
        return alert_ids, list(touched.values())

    @staticmethod
    def _key(scope: str, cols: dict, k: int) -> str:
        if scope == "swarm":
            return f"swarm|{cols['plate'][k]}"
        target = {"person": "person", "site": "site_id"}.get(scope)
        return f"{cols['user_key'][k]}|{scope}" + (f"|{cols[target][k]}" if target else "")

    @staticmethod
    def _join(alert: Alert, cols: dict, i: int, score: float, attr: np.ndarray) -> None:
        alert.search_ids.append(str(cols["search_id"][i]))
        alert.last_ns = max(alert.last_ns, int(cols["t"][i]))
        alert.first_ns = min(alert.first_ns, int(cols["t"][i]))
        user = str(cols["user_id"][i])
        alert.users[user] = alert.users.get(user, 0) + 1
        alert.attr = [a + float(b) for a, b in zip(alert.attr, attr)]
        alert.max_score = max(alert.max_score, float(score))
        st = alert.stats
        for c in COUNTERS:
            st[c] += int(bool(cols[c][i]))
        for m in MAXIMA:
            v = float(cols[m][i])
            if not math.isnan(v):
                st[m] = max(st[m], v)
        st["max_up_count"], st["max_up_days"], st["max_circle"] = st["up_count"], st["up_days"], st["circle_plates"]
        st["max_site_days"], st["max_burst"], st["max_plate_users"] = st["site_days"], st["burst"], max(st["plate_users"], st["plate_users_window"])
        st["max_plate_agencies"] = st["plate_agencies"]
        cats = set(st["reason_categories"]) | {c for c in names_of(int(cols["reason_bits"][i])) if c in PROTECTED}
        st["reason_categories"] = sorted(cats)
        if cols["purpose_rule"][i]:
            st["purpose_rule"] = cols["purpose_rule"][i]
        st["rare_surname"] = st["rare_surname"] or bool(cols["rare_surname"][i])
        if cols["site_category"][i]:
            st["site_category"] = str(cols["site_category"][i])

    def close_idle(self, now_ns: int) -> None:
        """Forget episodes that can no longer be extended, so state stays bounded."""
        longest = max(GAP_DAYS.values()) * NS_DAY
        self.open = {k: a for k, a in self.open.items() if now_ns - a.last_ns <= longest}

