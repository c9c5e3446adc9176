"""Detection quality against ground-truth labels (spec section 3).

Judged the way a reviewer experiences it: is every incident surfaced (incident
recall), is every alert worth opening (alert precision), and how much of the log
gets flagged at all. Names the incidents missed and the alerts that were false, since
those, not the rates, are what one studies to improve a detector.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from detector.reasons import BIT, PROTECTED, classify_column
from detector.validate import InputError

# Reasons that give misuse away by themselves; incidents without them are "laundered".
TELLING = sum(BIT[c] for c in PROTECTED) | BIT["personal_data"]
# Missed incidents and false alerts the table lists (the JSON holds them all).
LISTED = 20
# What evaluate reads of each alert (spec section 5).
ALERT_FIELDS = ("alert_id", "score", "search_ids")


@dataclass
class ScenarioQuality:
    scenario: str
    searches: int
    incidents: int
    search_recall: float
    incident_recall: float
    laundered_incidents: int
    laundered_recall: float


@dataclass
class MissedIncident:
    incident_id: str
    scenario: str
    searches: int
    best_score: float  # of its searches: how far below the flag threshold it stayed
    laundered: bool


@dataclass
class FalseAlert:
    """An alert fewer than half of whose searches are labelled misuse (ids only: no user or plate)."""

    alert_id: str
    pattern: str  # its strongest signal
    searches: int
    score: float
    labelled_share: float


@dataclass
class Quality:
    searches: int
    flagged_fraction: float
    alerts: int
    alert_precision: float
    roc_auc: float
    average_precision: float
    incident_recall: float
    laundered_recall: float
    scenarios: list[ScenarioQuality] = field(default_factory=list)
    missed: list[MissedIncident] = field(default_factory=list)
    false_alerts: list[FalseAlert] = field(default_factory=list)

    def table(self) -> str:
        head = f"{'scenario':<18}{'searches':>9}{'incidents':>10}{'search rec':>11}{'incid rec':>10}{'laundered':>10}{'laund rec':>10}"
        rows = [head, "-" * len(head)]
        for s in self.scenarios:
            rows.append(f"{s.scenario:<18}{s.searches:>9}{s.incidents:>10}{s.search_recall:>11.3f}{s.incident_recall:>10.3f}"
                        f"{s.laundered_incidents:>10}{s.laundered_recall:>10.3f}")
        rows += ["-" * len(head),
                 f"searches {self.searches:,}  flagged fraction {self.flagged_fraction:.4f}  alerts {self.alerts:,}  "
                 f"alert precision {self.alert_precision:.3f}",
                 f"incident recall {self.incident_recall:.3f}  laundered incident recall {self.laundered_recall:.3f}  "
                 f"ROC-AUC {self.roc_auc:.4f}  average precision {self.average_precision:.4f}"]
        rows.append(f"missed incidents: {len(self.missed)}")
        rows += [f"  {m.incident_id} ({m.scenario}{', laundered' if m.laundered else ''}): {_searches(m.searches)}, "
                 f"best score {m.best_score:.1f}" for m in self.missed[:LISTED]]
        patterns = Counter(f.pattern for f in self.false_alerts)
        rows.append(f"false alerts: {len(self.false_alerts)} of {self.alerts:,}"
                    + (" (" + ", ".join(f"{p} {n}" for p, n in patterns.most_common()) + ")" if patterns else ""))
        rows += [f"  {f.alert_id}: {f.pattern}, {_searches(f.searches)}, score {f.score:.1f}, "
                 f"{f.labelled_share:.0%} labelled misuse" for f in self.false_alerts[:LISTED]]
        if max(len(self.missed), len(self.false_alerts)) > LISTED:
            rows.append(f"(the first {LISTED} of each; --json lists them all)")
        return "\n".join(rows)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def _searches(n: int) -> str:
    return f"{n} search" + ("" if n == 1 else "es")


def _read_scores(results: Path) -> pd.DataFrame:
    for name in ("scores.parquet", "scores.csv"):
        p = results / name
        if p.exists():
            frame = pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p, dtype={"search_id": str, "alert_id": str}, keep_default_na=False)
            frame["flagged"] = frame["flagged"].astype(str).str.lower().isin(("true", "1"))
            return frame
    raise InputError(f"{results}: no scores.csv or scores.parquet")


def _read_alerts(results: Path) -> list[dict]:
    p = results / "alerts.jsonl"
    if not p.exists():
        raise InputError(f"{p}: no such file")
    alerts = []
    with p.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                alert = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{p}: line {number}: not JSON ({exc.msg})") from exc
            missing = [k for k in ALERT_FIELDS if k not in alert] if isinstance(alert, dict) else list(ALERT_FIELDS)
            if missing:
                raise InputError(f"{p}: line {number}: missing field(s) {', '.join(missing)}")
            alerts.append(alert)
    return alerts


def read_reasons(source: str | Path) -> pd.DataFrame:
    """The ``search_id``, ``reason`` and ``offense_type`` of every search of a dataset (file or
    directory): what ``evaluate`` needs to tell laundered incidents apart."""
    from detector.validate import RejectCounter
    from streams.files import find_searches_file, read_searches

    path = find_searches_file(source)
    return pd.concat([b[["search_id", "reason", "offense_type"]] for b in read_searches(path, RejectCounter())])


def evaluate(labels_path: str | Path, results: str | Path, searches: pd.DataFrame | None = None) -> Quality:
    """Quality of ``results`` (a replay output directory) against ``labels.csv``.

    ``searches`` (with ``search_id`` and ``reason``) tells laundered incidents apart;
    without it every incident counts as laundered.
    """
    results = Path(results)
    labels = pd.read_csv(labels_path, dtype=str, keep_default_na=False)
    missing = {"search_id", "scenario", "incident_id"} - set(labels.columns)
    if missing:
        raise InputError(f"{labels_path}: line 1: missing column(s) {', '.join(sorted(missing))}")
    scores = _read_scores(results)
    alerts = _read_alerts(results)
    truth = scores["search_id"].isin(labels["search_id"]).to_numpy()
    lab = labels.merge(scores[["search_id", "flagged", "score"]], on="search_id", how="left")
    lab["flagged"] = lab["flagged"].fillna(False).astype(bool)
    if searches is not None:
        bits = classify_column(searches["reason"].fillna("").astype(str), searches.get("offense_type", pd.Series([""] * len(searches))).fillna("").astype(str))
        telling = pd.Series((bits & TELLING) != 0, index=searches["search_id"].to_numpy())
        lab["telling"] = lab["search_id"].map(telling).fillna(False).astype(bool)
    else:
        lab["telling"] = False
    inc = lab.groupby(["scenario", "incident_id"]).agg(hit=("flagged", "any"), telling=("telling", "any"),
                                                       searches=("search_id", "size"), best=("score", "max")).reset_index()
    per: list[ScenarioQuality] = []
    for scen, g in lab.groupby("scenario"):
        ig = inc[inc["scenario"] == scen]
        laundered = ig[~ig["telling"]]
        per.append(ScenarioQuality(
            scenario=str(scen), searches=len(g), incidents=len(ig),
            search_recall=float(g["flagged"].mean()), incident_recall=float(ig["hit"].mean()),
            laundered_incidents=len(laundered), laundered_recall=float(laundered["hit"].mean()) if len(laundered) else float("nan"),
        ))
    labelled = set(labels["search_id"])
    shares = [float(np.mean([s in labelled for s in a["search_ids"]])) if a["search_ids"] else 0.0 for a in alerts]
    good = sum(share >= 0.5 for share in shares)
    missed = inc[~inc["hit"]].sort_values(["scenario", "incident_id"])
    laundered_all = inc[~inc["telling"]]
    both = truth.any() and not truth.all()
    return Quality(
        searches=len(scores),
        flagged_fraction=float(scores["flagged"].mean()) if len(scores) else 0.0,
        alerts=len(alerts),
        alert_precision=good / len(alerts) if alerts else float("nan"),
        roc_auc=float(roc_auc_score(truth, scores["score"])) if both else float("nan"),
        average_precision=float(average_precision_score(truth, scores["score"])) if both else float("nan"),
        incident_recall=float(inc["hit"].mean()) if len(inc) else float("nan"),
        laundered_recall=float(laundered_all["hit"].mean()) if len(laundered_all) else float("nan"),
        scenarios=per,
        missed=[MissedIncident(incident_id=str(r.incident_id), scenario=str(r.scenario), searches=int(r.searches),
                               best_score=float(np.nan_to_num(r.best)), laundered=not r.telling) for r in missed.itertuples()],
        false_alerts=[FalseAlert(alert_id=str(a["alert_id"]), pattern=str(a["signals"][0]["name"]) if a.get("signals") else "",
                                 searches=len(a["search_ids"]), score=float(a["score"]), labelled_share=share)
                      for a, share in zip(alerts, shares) if share < 0.5],
    )
