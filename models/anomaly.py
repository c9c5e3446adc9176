"""A learned unsupervised scorer over per-user and per-(user, plate) aggregates.

The detector's causal features already are such aggregates at the moment of each
search (the user's volume, reach and hours so far; how often this user has looked up
this plate), so the model reads them from the featured context and a stream and a
replay with the same model agree exactly. Higher ``score_searches`` = more anomalous,
in [0, 1], relative to the training history's own distribution.

The forest is grown by scikit-learn but kept as plain arrays (``Trees``) and walked by
``_path_lengths``, compiled: the same leaves and the same sums in the same order as
``IsolationForest.score_samples``, so the same scores to the bit, in under half its time
(a retrospective replay scores 100,000 training searches for the model's percentiles),
without holding the GIL, and without scikit-learn once fitted.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd
from numba import njit

if TYPE_CHECKING:
    from sklearn.ensemble import IsolationForest


class Grower(Protocol):
    """Grows a model's forest somewhere else than in the calling thread (``models.forked``)."""

    def grow(self, model: AnomalyModel, X: np.ndarray) -> Trees: ...

# Inputs of the model, all columns of the detector context; log-scaled counts.
MODEL_FEATURES: tuple[str, ...] = (
    "hour_share", "day_count", "daily_mean", "burst", "burst_nocase", "up_count", "up_days", "up_span_days",
    "up_nocase", "site_days", "far_burst", "plate_users", "circle_plates", "networks", "has_case", "vague",
)
# From this many searches the walk is split over two threads (a model's fit scores 100,000).
_SPLIT_ROWS = 20_000
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


@dataclass(frozen=True)
class Trees:
    """A fitted forest as the flat arrays ``_path_lengths`` walks: all trees' nodes one after
    another (``offsets``), children as indices into all of them, a leaf its own two children.

    Only numpy arrays: a model scores, pickles and loads without importing scikit-learn,
    whose import (half a second, with SciPy's) a replay would otherwise pay for nothing.
    """

    offsets: np.ndarray
    max_depth: np.ndarray
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    leaf_length: np.ndarray  # a leaf's depth plus the average path length of the training searches left in it, minus one
    normaliser: float  # the trees times the average path length of ``max_samples`` searches

    @classmethod
    def of(cls, forest: IsolationForest) -> Trees:
        """The trees of a fitted ``IsolationForest`` (which uses every feature in every tree)."""
        from sklearn.ensemble._iforest import _average_path_length

        trees = [estimator.tree_ for estimator in forest.estimators_]
        offsets = np.cumsum([0] + [tree.node_count for tree in trees])
        left, right = [], []
        for tree, base in zip(trees, offsets):
            leaf = tree.children_left == -1
            own = np.arange(tree.node_count)
            left.append(base + np.where(leaf, own, tree.children_left))
            right.append(base + np.where(leaf, own, tree.children_right))
        return cls(
            offsets=offsets, max_depth=np.array([tree.max_depth for tree in trees]),
            left=np.concatenate(left), right=np.concatenate(right),
            feature=np.concatenate([np.maximum(tree.feature, 0) for tree in trees]),  # leaves' -2: any column will do
            threshold=np.concatenate([tree.threshold for tree in trees]),
            missing_left=np.concatenate([tree.missing_go_to_left for tree in trees]).astype(np.bool_),
            leaf_length=np.concatenate([depth + average - 1.0 for depth, average in
                                        zip(forest._decision_path_lengths, forest._average_path_length_per_tree)]),
            normaliser=float(len(trees) * _average_path_length([forest._max_samples])[0]),
        )

    def walk(self, X: np.ndarray, out: np.ndarray) -> None:
        _path_lengths(X, self.offsets, self.max_depth, self.left, self.right, self.feature, self.threshold,
                      self.missing_left, self.leaf_length, out)


@dataclass
class AnomalyModel:
    """An isolation forest plus the score quantiles of its training data.

    scikit-learn grows the forest; the model keeps its trees as ``Trees`` and walks them
    compiled, to the same scores as ``IsolationForest.score_samples`` to the bit.

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

    def forest(self, samples: int) -> IsolationForest:
        """The unfitted ``IsolationForest`` this model grows on ``samples`` searches."""
        from sklearn.ensemble import IsolationForest  # here: a replay imports scikit-learn only to fit

        return IsolationForest(n_estimators=self.n_estimators, max_samples=min(self.max_samples, samples),
                               random_state=self.random_state)

    def fit(self, ctx: pd.DataFrame, grower: Grower | None = None) -> AnomalyModel:
        """Grow the forest on ``ctx`` (by ``grower``, else here) and take its score quantiles."""
        if len(ctx) < 50:
            raise ValueError(f"need at least 50 searches to fit the anomaly model, got {len(ctx)}")
        X = feature_matrix(ctx)
        self.trees_ = grower.grow(self, X) if grower is not None else self.grow(X)
        self.q_low_, self.q_high_ = np.quantile(self._raw(X), [0.99, 0.9995])
        return self

    def grow(self, X: np.ndarray) -> Trees:
        """The forest of this model's parameters grown on the model inputs ``X``."""
        return Trees.of(self.forest(len(X)).fit(X))

    def anomaly(self, ctx: pd.DataFrame) -> np.ndarray:
        """0 for the bulk of training behaviour, rising to 1 beyond its 99.95th percentile."""
        return self._scale(feature_matrix(ctx))

    def _scale(self, X: np.ndarray) -> np.ndarray:
        return np.clip((self._raw(X) - self.q_low_) / max(self.q_high_ - self.q_low_, 1e-9), 0.0, 1.0)

    def _raw(self, X: np.ndarray) -> np.ndarray:
        """The isolation forest's anomaly score in (0, 1], ``-score_samples(X)`` to the bit.

        Like scikit-learn: the inputs as float32, each tree's leaf path length added tree
        after tree, and ``2 ** -(mean path / average path of max_samples)``.
        """
        depths = np.zeros(len(X))
        X = np.ascontiguousarray(X, dtype=np.float32)
        if len(X) < _SPLIT_ROWS:
            self.trees_.walk(X, depths)
        else:  # each search's sum is its own: halves walked on two cores give the same bits
            half = len(X) // 2
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda rows: self.trees_.walk(X[rows], depths[rows]), (slice(0, half), slice(half, None))))
        normaliser = self.trees_.normaliser
        return 2 ** (-np.divide(depths, normaliser, out=np.ones_like(depths), where=normaliser != 0))

    def score_searches(self, ctx: pd.DataFrame, pattern_strength: np.ndarray | None = None) -> np.ndarray:
        """Anomaly per search; computed only where a pattern signal is present, since the
        fusion gives the model weight only there (and scoring every search costs)."""
        out = np.zeros(len(ctx))
        rows = np.arange(len(ctx)) if pattern_strength is None else np.flatnonzero(pattern_strength > 0)
        if len(rows):
            out[rows] = self._scale(feature_matrix(ctx, rows))
        return out


@njit(cache=True, nogil=True)
def _path_lengths(X, offsets, max_depth, left, right, feature, threshold, missing_left, leaf_length, out):  # pragma: no cover - compiled
    """Add each tree's leaf path length to ``out``, tree after tree.

    The trees' nodes lie at ``offsets[t]:offsets[t + 1]``, children as indices into all
    of them, a leaf its own two children; every search descends one level at a time,
    all searches in step, ``max_depth[t]`` times: no branch on the data, where a descent
    of one search to its leaf mispredicts about one branch a level.
    """
    node = np.empty(X.shape[0], dtype=np.int64)
    for t in range(offsets.shape[0] - 1):
        node[:] = offsets[t]
        for _ in range(max_depth[t]):
            for i in range(X.shape[0]):
                n = node[i]
                x = X[i, feature[n]]
                node[i] = left[n] if (x <= threshold[n]) | (np.isnan(x) & missing_left[n]) else right[n]
        for i in range(X.shape[0]):
            out[i] += leaf_length[node[i]]
