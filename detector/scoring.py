"""Fusing signal strengths into one 0-100 risk score with per-signal attributions.

Noisy-OR: each signal alone says "misuse with probability w * s", and independent
evidence accumulates, so the score reads as a probability-like risk and two weak
signals together rank above one. Weak context signals (off shift, no case number,
vague reason) only count where a pattern signal is present, so they can raise a
pattern but never make one. Without a pattern they still rank a search, within the
lowest ``BACKGROUND`` points, far under the flag: a caseless lookup under a vague reason
at an hour the user never works is riskier than a routine one, and an auditor sorting a
log by score (or measuring how it ranks misuse) should see that, where a score of 0 for
nine searches in ten would tie them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from detector.rules import PATTERN_SIGNALS, SIGNAL_INDEX, SIGNALS

DEFAULT_WEIGHTS: dict[str, float] = {
    "repeat_plate": 0.85,
    "self_surname": 0.8,
    "household_sweep": 0.8,
    "sensitive_site": 0.8,
    "volume_burst": 0.85,
    "informal_sharing": 0.8,
    "subject_swarm": 0.8,
    "outside_sharing": 0.8,
    "declared_sharing": 0.75,
    "forbidden_purpose": 0.9,
    "protected_reason": 0.72,
    "personal_data_reason": 0.35,
    "nationwide_scope": 0.2,
    "off_shift": 0.3,
    "no_case_number": 0.15,
    "vague_reason": 0.15,
    "model_anomaly": 0.3,
}
CONTEXT_SIGNALS = tuple(s for s in SIGNALS if s not in PATTERN_SIGNALS)
FLAG_THRESHOLD = 60.0  # a search this risky is flagged: it may join an alert
OPEN_THRESHOLD = 75.0  # evidence an episode needs before it opens an alert (``detector.alerts``)
BACKGROUND = 10.0  # most a search scores on context signals alone: ranks, never flags
if tuple(SIGNALS) != PATTERN_SIGNALS + CONTEXT_SIGNALS:  # pragma: no cover - guards an edit of rules.SIGNALS
    raise ImportError("rules.SIGNALS must list the pattern signals first, in PATTERN_SIGNALS order")
# Column slices of the signal matrix (views, where index lists would copy it).
PATTERN_COLUMNS = slice(0, len(PATTERN_SIGNALS))
CONTEXT_COLUMNS = slice(len(PATTERN_SIGNALS), len(SIGNALS))


@dataclass
class Fusion:
    """Signal weights, the flag threshold and the evidence an alert opens on; the feedback layer re-weights these."""

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    threshold: float = FLAG_THRESHOLD
    open_threshold: float = OPEN_THRESHOLD

    def contributions(self, S: np.ndarray) -> np.ndarray:
        C = np.multiply(S, self._weights())
        np.clip(C, 0.0, 0.999, out=C)
        # context only where some pattern is present, scaled by how present it is
        strongest = C[:, PATTERN_COLUMNS].max(axis=1, initial=0.0)
        C[:, CONTEXT_COLUMNS] *= np.clip(strongest / 0.5, 0.0, 1.0)[:, None]
        return C

    def score(self, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(score 0-100, attribution per signal summing to the score).

        Only searches with some contribution are worked out in full: the others (most of a
        log) score their context signals' noisy-OR scaled to ``BACKGROUND``, as does a search
        whose pattern is so weak that it would score less.

        >>> S = np.zeros((3, len(SIGNALS))); S[1, SIGNAL_INDEX["repeat_plate"]] = 1.0
        >>> S[2, SIGNAL_INDEX["no_case_number"]] = S[2, SIGNAL_INDEX["vague_reason"]] = 1.0
        >>> score, attr = Fusion().score(S)
        >>> score.round(1).tolist(), bool(np.allclose(attr.sum(axis=1), score))
        ([0.0, 85.0, 2.8], True)
        """
        score, attr = self._background(S)
        rows = self._contributing(S)
        # row-major, so that products and sums run along each row as they always have (same rounding)
        full, full_attr = _noisy_or(self.contributions(np.ascontiguousarray(S[rows])), 100.0)
        stronger = ~(full < score[rows])  # (a not-a-number score stays one)
        score[rows[stronger]] = full[stronger]
        attr[rows[stronger]] = full_attr[stronger]
        return score, attr

    def _background(self, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every search's score on its context signals alone, and their shares of it.

        A column at a time, as ``_contributing``: over every search of a batch, this is
        most of the fusion's work.
        """
        w = self._weights()
        columns = range(len(SIGNALS))[CONTEXT_COLUMNS]
        logs = {j: np.log1p(-np.clip(S[:, j] * w[j], 0.0, 0.999)) for j in columns}  # log(1 - contribution)
        total = sum(logs.values())  # the log of what the noisy-OR leaves out
        score = BACKGROUND * (1.0 - np.exp(total))
        # each contribution's share by its log-odds weight; column-major, as the signals, to write a column at a time
        attr = np.zeros(S.shape, order="F")
        share = np.divide(score, total, out=np.zeros(len(S)), where=total < 0)
        for j, log in logs.items():
            np.multiply(log, share, out=attr[:, j])
        return score, attr

    def _contributing(self, S: np.ndarray) -> np.ndarray:
        """The rows where ``contributions(S)`` is not all zero, found a column at a time.

        That is where a pattern signal has weight, or where a context signal is not a
        number (which ``contributions`` would carry into the score).
        """
        w = self._weights()
        columns = range(len(SIGNALS))
        strongest = np.zeros(len(S))
        for j in columns[PATTERN_COLUMNS]:
            np.maximum(strongest, np.clip(S[:, j] * w[j], 0.0, 0.999), out=strongest)
        undefined = np.zeros(len(S), dtype=bool)
        for j in columns[CONTEXT_COLUMNS]:
            undefined |= np.isnan(S[:, j] * w[j])
        return np.flatnonzero((strongest != 0) | undefined)

    def _weights(self) -> np.ndarray:
        return np.array([self.weights.get(s, 0.0) for s in SIGNALS])


def _noisy_or(C: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``scale`` times the noisy-OR of the contributions ``C`` (one row per search), and each
    contribution's share of it (by its log-odds weight, so that the shares sum to the score)."""
    score = scale * (1.0 - np.prod(1.0 - C, axis=1))
    logs = -np.log1p(-C)
    total = logs.sum(axis=1, keepdims=True)
    return score, np.where(total > 0, logs / np.where(total > 0, total, 1.0), 0.0) * score[:, None]
