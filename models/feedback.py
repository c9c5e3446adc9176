"""Learning from reviewers: dispositions re-weight the signals.

Reviewers judge only a few alerts, so their labels are spread to the rest by label
spreading over the alerts' evidence profiles (each alert's share of evidence per
signal, its size and score): an unjudged alert that looks like a confirmed one is
probably misuse too. Each pattern signal's weight is then scaled by how often the
alerts it dominates turn out to be misuse, relative to all alerts, so that a signal
whose alerts keep being dismissed counts less in every future score. Weights are
only lowered, never raised: feedback trims the queue, it does not invent alerts.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.semi_supervised import LabelSpreading

from detector.rules import PATTERN_SIGNALS, SIGNALS
from detector.scoring import DEFAULT_WEIGHTS, Fusion

LABELS = {"confirmed_misuse": 1, "justified": 0, "false_positive": 0}
MIN_MULTIPLIER = 0.3
PRIOR_ALERTS = 3.0  # judged alerts' worth of trust in the current weight


def alert_vector(record: dict) -> np.ndarray:
    """Evidence profile: share per signal, then log size and score."""
    shares = {s["name"]: float(s["weight"]) for s in record.get("signals", [])}
    vec = [shares.get(name, 0.0) for name in SIGNALS]
    vec += [math.log1p(len(record.get("search_ids", []))) / 5.0, float(record.get("score", 0.0)) / 100.0]
    return np.asarray(vec)


def dominant_signal(record: dict) -> str | None:
    patterns = [s for s in record.get("signals", []) if s["name"] in PATTERN_SIGNALS]
    return max(patterns, key=lambda s: s["weight"])["name"] if patterns else None


@dataclass
class Feedback:
    """Signal weights learned from dispositions, with what they rest on."""

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    labelled: int = 0
    alerts: int = 0
    misuse_rate: dict[str, float] = field(default_factory=dict)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.__dict__, indent=2, sort_keys=True), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Feedback:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        unknown = set(raw.get("weights", {})) - set(SIGNALS)
        if unknown:
            raise ValueError(f"{path}: weights for unknown signals {sorted(unknown)}; relearn with 'alpr-watch feedback'")
        return cls(**raw)

    def fusion(self) -> Fusion:
        """The fusion that scores with these weights, for replay and stream alike."""
        return Fusion(weights=self.weights)


def learn(records: list[dict], dispositions: dict[str, str], base: dict[str, float] | None = None,
          n_neighbors: int = 7) -> Feedback:
    """Weights from reviewer ``dispositions`` (alert id -> disposition) over all ``records``.

    >>> a = lambda i, sig: {"alert_id": i, "score": 80, "search_ids": ["s"], "signals": [{"name": sig, "weight": 1.0}]}
    >>> recs = [a(f"r{i}", "repeat_plate") for i in range(10)] + [a(f"v{i}", "volume_burst") for i in range(10)]
    >>> fb = learn(recs, {"r0": "confirmed_misuse", "v0": "false_positive", "v1": "false_positive"})
    >>> fb.weights["volume_burst"] < fb.weights["repeat_plate"] == DEFAULT_WEIGHTS["repeat_plate"]
    True
    """
    base = dict(base or DEFAULT_WEIGHTS)
    y = np.array([LABELS.get(dispositions.get(r["alert_id"], ""), -1) for r in records])
    labelled = int((y >= 0).sum())
    if labelled == 0 or len(set(y[y >= 0])) < 2:
        # one class only: nothing to contrast, so every unjudged alert takes that class's rate
        p = np.where(y >= 0, y, float(np.mean(y[y >= 0])) if labelled else 1.0).astype(float)
    else:
        X = np.vstack([alert_vector(r) for r in records])
        model = LabelSpreading(kernel="knn", n_neighbors=min(n_neighbors, len(records) - 1), alpha=0.2).fit(X, y)
        p = model.label_distributions_[:, list(model.classes_).index(1)]
    rate: dict[str, float] = {}
    dominant = [dominant_signal(r) for r in records]
    weights = dict(base)
    for signal in PATTERN_SIGNALS:
        mine = [i for i, d in enumerate(dominant) if d == signal]
        judged = sum(1 for i in mine if y[i] >= 0)
        if not judged:
            continue
        # the signal's misuse rate among the alerts it dominates (labels spread to look-alikes),
        # trusted as much as the reviewers judged of them, against the weight as a prior
        own = float(np.mean(p[mine]))
        rate[signal] = round(own, 4)
        posterior = (PRIOR_ALERTS * base[signal] + judged * own) / (PRIOR_ALERTS + judged)
        weights[signal] = base[signal] * float(np.clip(posterior / base[signal], MIN_MULTIPLIER, 1.0))
    return Feedback(weights=weights, labelled=labelled, alerts=len(records), misuse_rate=rate)
