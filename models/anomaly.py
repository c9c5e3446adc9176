"""A learned unsupervised scorer over per-user and per-(user, plate) aggregates.

The detector's causal features already are such aggregates at the moment of each
search (the user's volume, reach and hours so far; how often this user has looked up
this plate), so the model reads them from the featured context and a stream and a
replay with the same model agree exactly. Higher ``score_searches`` = more anomalous,
in [0, 1], relative to the training history's own distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

# Inputs of the model, all columns of the detector context; log-scaled counts.
MODEL_FEATURES: tuple[str, ...] = (
    "hour_share", "day_count", "daily_mean", "burst", "burst_nocase", "up_count", "up_days", "up_span_days",
    "up_nocase", "site_days", "far_burst", "plate_users", "circle_plates", "networks", "has_case", "vague",
)
_LOG = {"day_count", "daily_mean", "burst", "burst_nocase", "up_count", "up_days", "up_span_days", "up_nocase",
        "site_days", "far_burst", "plate_users", "circle_plates", "networks"}


def feature_matrix(ctx: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """The model's inputs of ``ctx``, or of its ``rows`` only: taking rows of the model's few
    columns, not of the whole context frame (dozens of columns, strings among them)."""
    cols = []
    for name in MODEL_FEATURES:
        v = ctx[name].to_numpy(dtype=np.float64)
        v = np.nan_to_num(v if rows is None else v[rows], nan=0.0)
        cols.append(np.log1p(np.maximum(v, 0.0)) if name in _LOG else v)
    return np.column_stack(cols)


@dataclass
class AnomalyModel:
    """IsolationForest plus the score quantiles of its training data.

    >>> rng = np.random.default_rng(0)
    >>> ctx = pd.DataFrame({f: rng.random(500) for f in MODEL_FEATURES})
    >>> model = AnomalyModel(random_state=0).fit(ctx)
    >>> odd = ctx.iloc[:1].copy(); odd[list(MODEL_FEATURES)] = 50.0
    >>> bool(model.anomaly(odd)[0] > model.anomaly(ctx.iloc[1:2])[0])
    True
    """

    n_estimators: int = 100
    max_samples: int = 512
    random_state: int = 0

    def fit(self, ctx: pd.DataFrame) -> AnomalyModel:
        if len(ctx) < 50:
            raise ValueError(f"need at least 50 searches to fit the anomaly model, got {len(ctx)}")
        X = feature_matrix(ctx)
        self.forest_ = IsolationForest(n_estimators=self.n_estimators, max_samples=min(self.max_samples, len(X)),
                                       random_state=self.random_state).fit(X)
        raw = -self.forest_.score_samples(X)
        self.q_low_, self.q_high_ = np.quantile(raw, [0.99, 0.9995])
        return self

    def anomaly(self, ctx: pd.DataFrame) -> np.ndarray:
        """0 for the bulk of training behaviour, rising to 1 beyond its 99.95th percentile."""
        return self._scale(feature_matrix(ctx))

    def _scale(self, X: np.ndarray) -> np.ndarray:
        raw = -self.forest_.score_samples(X)
        return np.clip((raw - self.q_low_) / max(self.q_high_ - self.q_low_, 1e-9), 0.0, 1.0)

    def score_searches(self, ctx: pd.DataFrame, pattern_strength: np.ndarray | None = None) -> np.ndarray:
        """Anomaly per search; computed only where a pattern signal is present, since the
        fusion gives the model weight only there (and scoring every search costs)."""
        out = np.zeros(len(ctx))
        rows = np.arange(len(ctx)) if pattern_strength is None else np.flatnonzero(pattern_strength > 0)
        if len(rows):
            out[rows] = self._scale(feature_matrix(ctx, rows))
        return out
