"""The auditor's report: one self-contained HTML file from a replay.

Written for the people who request audit logs (auditors, journalists, oversight
boards): it must open offline, be safe to pass around, and say what every figure
rests on. So the charts are inline SVG, nobody is named (officers and plates appear
only as the pseudonyms of ``detector.explain``, the ones the dashboard uses), and
every alert names the policy rule it rests on, or says that it rests on none.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from detector.engine import BatchResult
from detector.explain import SIGNAL_TITLES, pseudonym
from detector.policy import Policy
from detector.reasons import PROTECTED, names_of
from detector.reference import Reference
from detector.report_data import DEVICE_BINS, NATIONWIDE, NETWORK_BINS, REASON_GROUPS, ReportData
from detector.report_svg import bar_chart, count, line_chart, percent
from detector.schema import NS_DAY, SEVERITIES
from detector.scoring import BACKGROUND

TEMPLATES = Path(__file__).with_name("templates")
DAILY_UP_TO = 92  # days; longer periods are charted per week
REASON_TITLES = {
    "immigration": "Immigration",
    "reproductive_health": "Reproductive health",
    "gender_affirming_care": "Gender-affirming care",
    "protest_political": "Protest or politics",
    "religion": "Religion",
    "vague": "Vague ('investigation', 'inv')",
    "test_training": "Test or training",
    "case_number_only": "Case number only",
    "personal_data": "Personal data in the reason",
    "missing": "Missing or redacted",
    "hotlist": "Hotlist or alert",
    "crime": "Names a crime",
    "personal_purpose": "Personal purpose ('my ex', 'personal')",
    "crime_scene": "Reason names a crime with a victim or a scene",
    "specific": "Other specific reason",
}
FINDING_TITLES = {
    "outside_sharing": "Access from outside the sharing the policy allows",
    "declared_sharing": "Declared on behalf of an agency outside the sharing rules",
    "federal_access": "Federal agency access",
    "forbidden_purpose": "Purpose the policy forbids",
}
NO_RULE = "No policy rule: a pattern of use for a reviewer to judge, not a violation in itself"
# The method section's limits: what every reader of a report should know before quoting it.
LIMITS = (
    "An alert is a lead for a reviewer, not a finding of misuse: it says which searches to ask about and why.",
    ("The log only holds what the agency released. A transparency-portal file covers 30 days of the agency's own "
     "users; a network audit covers the searches that reached the agency's cameras, not everything its officers did."),
    ("Since December 2025 Flock prints other agencies' officer names, plates and case numbers as ***: those searches "
     "count as 'no case number' and their officers cannot be told apart, so they are left out of the officer ranking."),
    ("A case number field that names no case ('N/A', 'none', '0000', '1234') counts as no case number. How much a "
     "missing one weighs depends on the habit: where an officer (or a new officer's agency) rarely gives one, its lack tells little."),
    ("Reason categories come from keywords and the Flock dropdown. A keyword beside a crime and a case number is read "
     "as a victim or a scene, not a purpose; a laundered reason ('investigation') cannot be seen through."),
    ("An agency's state comes from the log, the reference agencies file or the state in its Flock name "
     "('Houston TX PD'). Where none says, the state is unknown and the search is not counted as out of state."),
    ("A model fitted on the replayed log itself ranks users against each other; it finds what is unusual in this log, "
     "not what is unlawful, and a log where misuse is routine looks normal to it."),
    ("Pseudonyms (user#..., plate#...) are short hashes. They keep names out of the report, but anyone holding the "
     "roster or the plate can recompute them: treat the report as you would the log."),
)


@dataclass
class RunInfo:
    """What the replay did, for the method section."""

    source: str
    agency: str | None = None
    scored: int = 0
    rejected: int = 0
    duplicates: int = 0
    model: str = ""
    suppressions: list[str] = field(default_factory=list)  # what each suppression rule silenced (``Suppressions.lines``)
    outputs: list[str] = field(default_factory=list)


def user_label(user_id: str) -> str:
    """An officer as the report shows them: a pseudonym, or the log's own redaction."""
    return pseudonym(user_id, "user") if user_id else "(redacted)"


def _day(day: int) -> str:
    return pd.Timestamp(int(day) * NS_DAY, tz="UTC").strftime("%Y-%m-%d")


def _share(part: float, whole: float) -> float:
    return float(part) / float(whole) if whole else 0.0


def _rate(per: pd.DataFrame, part: pd.Series) -> np.ndarray:
    """``part`` as a share of the searches of each period, 0 in idle periods."""
    return (part / per["searches"].where(per["searches"] > 0)).fillna(0.0).to_numpy()


class ReportBuilder:
    """Feed it every scored batch (``add``), then ``write`` the alert records into the report."""

    def __init__(self, reference: Reference, policy: Policy, top_alerts: int = 15, top_officers: int = 25) -> None:
        self.policy = policy
        self.data = ReportData(reference, policy)
        self.top_alerts = top_alerts
        self.top_officers = top_officers

    def add(self, batch: pd.DataFrame, result: BatchResult) -> None:
        self.data.add(batch, result)

    def write(self, path: str | Path, records: list[dict], run: RunInfo) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.render(records, run), encoding="utf-8")
        return path

    def render(self, records: list[dict], run: RunInfo) -> str:
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                 undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        env.filters["count"] = count
        env.filters["percent"] = percent
        return env.get_template("report.html.j2").render(**self.context(records, run))

    def context(self, records: list[dict], run: RunInfo) -> dict:
        """Everything the template shows, already pseudonymised and formatted where it matters."""
        d = self.data
        if d.daily is None:
            return {"empty": True, "run": run, "policy": self._policy_view(), "generated": _now(), "limits": LIMITS}
        daily = d.daily.sort_index()
        periods = Periods(daily.index.to_numpy(dtype=np.int64))
        switch = int(daily.index[daily["dropdown"].to_numpy() > 0].min()) if (daily["dropdown"] > 0).any() else None
        home, home_source = self._home_state()
        access = self._access(daily, periods, home, home_source)
        return {
            "empty": False,
            "run": run,
            "generated": _now(),
            "first_day": _day(d.first_ns // NS_DAY),
            "last_day": _day(d.last_ns // NS_DAY),
            "policy": self._policy_view(),
            "overview": self._overview(daily, records, access),
            "time": self._time(daily, periods, switch),
            "access": access,
            "reasons": self._reasons(daily, periods, switch),
            "reach": self._reach(daily),
            "findings": self._findings(daily),
            "alerts": self._alerts(records),
            "officers": self._officers(records),
            "limits": LIMITS,
        }

    def _home_state(self) -> tuple[str | None, str]:
        if self.policy.state:
            return self.policy.state, f"the {self.policy.name} policy pack"
        by_state = self.data.day_state.groupby(level="state")["searches"].sum()
        by_state = by_state[~by_state.index.isin(["", "US"])]
        if by_state.empty:
            return None, ("unknown: no searching agency's state is known (add agencies.csv, or give the state with the agency: "
                          "--agency 'Eugene Police Department (OR)')")
        return str(by_state.idxmax()), "the state most searching agencies are in (no state policy pack was used)"

    def _policy_view(self) -> dict:
        p = self.policy
        purposes = [{"category": REASON_TITLES[c], "rule": r} for c, r in p.forbidden_purposes.items()]
        return {"name": p.name, "state": p.state, "sharing_rule": p.sharing_rule, "allowed_states": ", ".join(p.allowed_states),
                "allowed_kinds": ", ".join(p.allowed_kinds), "purposes": purposes,
                "has_rules": bool(p.sharing_rule or p.forbidden_purposes)}

    def _overview(self, daily: pd.DataFrame, records: list[dict], access: dict) -> dict:
        d = self.data
        total = daily["searches"].sum()
        severities = {s: sum(r["severity"] == s for r in records) for s in reversed(SEVERITIES)}
        return {
            "searches": int(total),
            "agencies": int(d.agencies.index.get_level_values("agency").nunique()),
            "officers": int((d.users.index.get_level_values("user_id") != "").sum()),
            "redacted_share": _share(d.redacted_rows, total),
            "flagged": int(daily["flagged"].sum()),
            "flagged_share": _share(daily["flagged"].sum(), total),
            "alerts": len(records),
            "severities": severities,
            "outside_share": access["outside_share"],
            "federal_share": access["federal_share"],
            "nocase_share": _share(daily["nocase"].sum(), total),
        }

    def _time(self, daily: pd.DataFrame, periods: Periods, switch: int | None) -> dict:
        per = periods.sum(daily[["searches", "flagged"]])
        marker = (periods.position(switch), f"dropdown reasons from {_day(switch)}") if switch is not None else None
        chart = line_chart(periods.labels, {"searches": per["searches"], "flagged searches": per["flagged"]},
                           f"Searches per {periods.unit}", marker=marker)
        busiest = per["searches"].idxmax()
        return {"unit": periods.unit, "chart": chart, "busiest": periods.label_of(busiest),
                "busiest_count": int(per["searches"].max()), "mean": float(per["searches"].mean())}

    def _access(self, daily: pd.DataFrame, periods: Periods, home: str | None, home_source: str) -> dict:
        d = self.data
        ds = d.day_state["searches"]
        state = ds.index.get_level_values("state")
        by_day = pd.DataFrame({
            "searches": daily["searches"],
            "federal": daily["federal"],
            "outside": ds[~state.isin(["", "US", home or ""])].groupby(level="day").sum() if home else 0.0,
            "unknown": ds[state == ""].groupby(level="day").sum(),
        }).fillna(0.0)
        per = periods.sum(by_day)
        series = {"out of state": _rate(per, per["outside"])} if home else {}
        series["federal"] = _rate(per, per["federal"])
        chart = line_chart(periods.labels, series, f"Share of searches from out of state and federal agencies, per {periods.unit}",
                           fmt=percent)
        agencies = d.agencies.reset_index()
        elsewhere = (agencies["state"] != "") & (agencies["state"] != home) if home else False
        outside = agencies[(agencies["state"] == "US") | (agencies["kind"] == "private") | elsewhere]
        outside = outside.groupby(["agency", "state", "kind"], as_index=False)[["searches", "flagged"]].sum()
        top = outside.sort_values(["searches", "agency"], ascending=[False, True]).head(15)
        total = daily["searches"].sum()
        return {
            "home": home, "home_source": home_source, "chart": chart,
            "outside_share": _share(by_day["outside"].sum(), total) if home else None,
            "federal_share": _share(daily["federal"].sum(), total),
            "private_share": _share(daily["private"].sum(), total),
            "unknown_share": _share(by_day["unknown"].sum(), total),
            "single_agency": agencies["agency"].nunique() == 1,
            "top": [{"agency": r.agency, "state": r.state or "?", "kind": r.kind or "?", "searches": int(r.searches),
                     "flagged": int(r.flagged)} for r in top.itertuples()],
        }

    def _reasons(self, daily: pd.DataFrame, periods: Periods, switch: int | None) -> dict:
        groups = list(REASON_GROUPS)
        if switch is not None and (daily.index < switch).any():
            before, after = daily[daily.index < switch], daily[daily.index >= switch]
            split = {"before the dropdown": before, "after the dropdown": after}
        else:
            split = {"all searches": daily}
        shares = {name: [_share(part[g].sum(), part["searches"].sum()) for g in groups] for name, part in split.items()}
        shown = [i for i, g in enumerate(groups) if any(s[i] > 0 for s in shares.values())]
        chart = bar_chart([REASON_TITLES[groups[i]] for i in shown], {k: [v[i] for i in shown] for k, v in shares.items()},
                          "Share of searches per reason category", fmt=percent)
        per = periods.sum(daily[["searches", "vague", "missing", "dropdown", "nocase"]])
        trend = line_chart(periods.labels, {
            "vague or missing": _rate(per, per["vague"] + per["missing"]),
            "dropdown form": _rate(per, per["dropdown"]),
            "no case number": _rate(per, per["nocase"]),
        }, f"Reason quality per {periods.unit}", fmt=percent,
            marker=(periods.position(switch), "first dropdown reason") if switch is not None else None)
        rows = [{"category": REASON_TITLES[groups[i]], "shares": [v[i] for v in shares.values()]} for i in shown]
        return {"switch": _day(switch) if switch is not None else None, "compared": len(split) == 2,
                "columns": list(split), "rows": rows,
                "chart": chart, "trend": trend, "labels": self._dropdown_labels(switch)}

    def _dropdown_labels(self, switch: int | None) -> list[dict]:
        labels = self.data.labels
        if labels is None or switch is None:
            return []
        after = labels[labels.index.get_level_values("day") >= switch]["searches"]
        counts: dict[str, float] = {}
        for combined, n in after.groupby(level="label").sum().items():
            for label in str(combined).split(", "):
                counts[label] = counts.get(label, 0) + n
        total = sum(counts.values())
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:12]
        return [{"label": k, "searches": int(v), "share": _share(v, total)} for k, v in ranked]

    def _reach(self, daily: pd.DataFrame) -> dict:
        d = self.data
        total = int(d.networks.sum())
        networks_known = total - int(d.networks[-1])
        devices_known = int(d.devices.sum() - d.devices[-1])
        if networks_known:
            labels, values, what = NETWORK_BINS, d.networks, "networks"
        elif devices_known:
            labels, values, what = DEVICE_BINS, d.devices, "cameras"
        else:
            return {"what": None, "chart": "", "nationwide_share": None}
        keep = [i for i, v in enumerate(values) if v or labels[i] != "0"]
        chart = bar_chart([labels[i] for i in keep], {"searches": [float(values[i]) for i in keep]},
                          f"Searches by number of {what} searched")
        return {"what": what, "chart": chart, "known_share": _share(networks_known or devices_known, total),
                "nationwide_at": NATIONWIDE,
                "nationwide_share": _share(daily["nationwide"].sum(), networks_known) if networks_known else None}

    def _findings(self, daily: pd.DataFrame) -> list[dict]:
        p = self.policy
        rows = [{"finding": FINDING_TITLES[f], "searches": int(daily[f].sum()), "rule": p.rule_for(f) or NO_RULE}
                for f in ("outside_sharing", "declared_sharing")]
        rows.append({"finding": FINDING_TITLES["federal_access"], "searches": int(daily["federal"].sum()),
                     "rule": p.rule_for("federal_access") or NO_RULE})
        for cat in PROTECTED:
            rule = p.rule_for("forbidden_purpose", [cat])
            if rule:
                rows.append({"finding": f"{FINDING_TITLES['forbidden_purpose']}: {REASON_TITLES[cat].lower()}",
                             "searches": self.data.forbidden_by_category[cat], "rule": rule})
        return rows

    def _alerts(self, records: list[dict]) -> list[dict]:
        rank = {s: i for i, s in enumerate(reversed(SEVERITIES))}
        top = sorted(records, key=lambda r: (rank[r["severity"]], -r["score"], r["alert_id"]))[: self.top_alerts]
        return [self._alert_view(r) for r in top]

    def _alert_view(self, r: dict) -> dict:
        users = [u for u in [r["user_id"], *r.get("users", [])] if u]
        categories = names_of(self.data.alert_bits.get(r["alert_id"], 0))
        return {
            "id": r["alert_id"], "severity": r["severity"], "score": r["score"],
            "pattern": SIGNAL_TITLES.get(r.get("pattern", ""), r.get("pattern", "")),
            "officer": user_label(r["user_id"]), "officers": len(set(users)) or 1, "agency": r["agency"],
            "first_day": r["first_ts"][:10], "last_day": r["last_ts"][:10], "searches": len(r["search_ids"]),
            "summary": scrub(r["summary"], users),
            "rules": alert_rules(self.policy, [s["name"] for s in r["signals"]], categories),
            "signals": [{"title": s.get("title") or SIGNAL_TITLES.get(s["name"], s["name"]), "weight": s["weight"],
                         "detail": scrub(s["detail"], users)} for s in r["signals"]],
        }

    def _officers(self, records: list[dict]) -> dict:
        users = self.data.users.reset_index()
        alerts = pd.Series([(r["agency"], r["user_id"]) for r in records]).value_counts() if records else pd.Series(dtype=int)
        named = users[users["user_id"] != ""].copy()
        named["alerts"] = [int(alerts.get((a, u), 0)) for a, u in zip(named["agency"], named["user_id"])]
        named["score_mean"] = named["score_sum"] / named["searches"]
        named["model_mean"] = named["model_sum"] / named["searches"]
        keys = ["flagged", "alerts", "score_max", "model_mean", "score_mean", "searches"]
        ranked = named.sort_values(keys, ascending=[False] * len(keys), kind="stable").head(self.top_officers)
        rows = [{
            "officer": user_label(r.user_id), "agency": r.agency, "searches": int(r.searches), "flagged": int(r.flagged),
            "alerts": r.alerts, "score_mean": r.score_mean, "score_max": r.score_max,
            "nocase": _share(r.nocase, r.searches), "vague": _share(r.vague, r.searches),
            "nationwide": _share(r.nationwide, r.searches), "model": r.model_mean,
        } for r in ranked.itertuples()]
        redacted = users[users["user_id"] == ""]
        return {"rows": rows, "ranked_of": len(named), "redacted_searches": int(redacted["searches"].sum()),
                "model": bool((named["model_sum"] > 0).any()), "no_pattern": not (named["score_max"] > BACKGROUND).any(),
                "networks": bool(self.data.networks[:-1].sum())}


class Periods:
    """Days grouped into the periods a time chart shows: days, or Monday-based weeks for long logs."""

    def __init__(self, days: np.ndarray) -> None:
        first, last = int(days.min()), int(days.max())
        self.unit = "day" if last - first < DAILY_UP_TO else "week"
        self.step = 1 if self.unit == "day" else 7
        self.start = self.key(first)
        self.keys = np.arange(self.start, self.key(last) + 1, self.step)
        self.labels = [_day(k) for k in self.keys]

    def key(self, day: int | np.ndarray) -> int | np.ndarray:
        # 1 January 1970 was a Thursday: (day + 3) % 7 is 0 on Mondays
        return day if self.unit == "day" else day - (day + 3) % 7

    def sum(self, by_day: pd.DataFrame) -> pd.DataFrame:
        """Per-period sums of day-indexed counts, every period present (zero when idle)."""
        keys = self.key(by_day.index.to_numpy(dtype=np.int64))
        return by_day.groupby(keys).sum().reindex(self.keys, fill_value=0)

    def position(self, day: int) -> int:
        return int((self.key(day) - self.start) // self.step)

    def label_of(self, key: int) -> str:
        return _day(key) if self.unit == "day" else f"week of {_day(key)}"


def alert_rules(policy: Policy, signals: Iterable[str], categories: Iterable[str]) -> list[str]:
    """The policy rules an alert rests on, from its signals and its searches' reason categories."""
    names = set(signals)
    rules = [policy.rule_for(f) for f in ("outside_sharing", "declared_sharing") if f in names]
    if "forbidden_purpose" in names:
        rules += [policy.rule_for("forbidden_purpose", [c]) for c in categories]
    found = list(dict.fromkeys(r for r in rules if r))
    return found or [NO_RULE]


def scrub(text: str, user_ids: Iterable[str]) -> str:
    """``text`` with the alert's own account names replaced by their pseudonyms.

    The detector writes ``User <id> (<agency>)`` into summaries, and in a network audit
    the id is the officer's full name. One pass, so a pseudonym put in is never matched
    again; ids under four characters ('7') are replaced only in that ``User`` prefix.
    """
    ids = sorted({u for u in user_ids if u}, key=len, reverse=True)
    anywhere = [re.escape(u) for u in ids if len(u) >= 4]
    short = [re.escape(u) for u in ids if len(u) < 4]
    parts = anywhere + ([rf"(?<=^User )(?:{'|'.join(short)})(?= \()"] if short else [])
    return re.sub("|".join(parts), lambda m: user_label(m.group()), text) if parts else text


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

