"""Fusing signal strengths into one 0-100 risk score with per-signal attributions.

Noisy-OR: each signal alone says "misuse with probability w * s", and independent
evidence accumulates, so the score reads as a probability-like risk and two weak
signals together rank above one. Weak context signals (off shift, no case number,
vague reason) only count where a pattern signal is present, so they can raise a
pattern but never make one.
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
    "protected_reason": 0.7,
    "personal_data_reason": 0.35,
    "nationwide_scope": 0.2,
    "off_shift": 0.3,
    "no_case_number": 0.15,
    "vague_reason": 0.15,
    "model_anomaly": 0.3,
}
CONTEXT_SIGNALS = tuple(s for s in SIGNALS if s not in PATTERN_SIGNALS)
FLAG_THRESHOLD = 60.0


@dataclass
class Fusion:
    """Signal weights and the flag threshold; the feedback layer re-weights these."""

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    threshold: float = FLAG_THRESHOLD

    def contributions(self, S: np.ndarray) -> np.ndarray:
        w = np.array([self.weights.get(s, 0.0) for s in SIGNALS])
        C = np.clip(S * w, 0.0, 0.999)
        pattern = np.zeros(len(SIGNALS), bool)
        pattern[[SIGNAL_INDEX[s] for s in PATTERN_SIGNALS]] = True
        # context only where some pattern is present, scaled by how present it is
        strongest = C[:, pattern].max(axis=1, initial=0.0)
        C[:, ~pattern] *= np.clip(strongest / 0.5, 0.0, 1.0)[:, None]
        return C

    def score(self, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(score 0-100, attribution per signal summing to the score).

        >>> S = np.zeros((2, len(SIGNALS))); S[1, SIGNAL_INDEX["repeat_plate"]] = 1.0
        >>> score, attr = Fusion().score(S)
        >>> score.round(1).tolist(), bool(np.isclose(attr[1].sum(), score[1]))
        ([0.0, 85.0], True)
        """
        C = self.contributions(S)
        risk = 1.0 - np.prod(1.0 - C, axis=1)
        score = 100.0 * risk
        logs = -np.log1p(-C)
        total = logs.sum(axis=1, keepdims=True)
        attr = np.where(total > 0, logs / np.where(total > 0, total, 1.0), 0.0) * score[:, None]
        return score, attr
