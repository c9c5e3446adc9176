"""Fitting the anomaly model on a history of searches."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

from detector.engine import Detector
from detector.policy import Policy
from detector.reference import Reference
from detector.validate import Deduplicator, RejectCounter
from models.anomaly import MODEL_FEATURES, AnomalyModel, Grower
from models.persist import ModelBundle, current_versions
from streams.sources import open_searches

SAMPLE_ROWS = 300_000
MIN_SEARCHES = 50


class TooFewSearches(ValueError):
    """A history too short to learn what is usual from."""


class History:
    """The featured searches a model learns what is usual from, gathered batch by batch.

    It takes the frames of ``Detector.features`` in log order, whether from a training
    pass of its own (``fit_model``) or from a replay that goes on to score those same
    frames: the same searches give the same model either way. ``limit`` keeps only the
    log's first that many searches as fed (oldest first, see ``open_searches``), so that
    a huge log need not be read twice. Beyond ``sample_rows`` a uniform sample is kept:
    the searches with the smallest of random keys drawn one per search in feeding order
    with a fixed seed, so the same data always gives the same model, however it is cut
    into batches (a replay features in smaller pieces than it reads).
    """

    def __init__(self, limit: int | None = None, sample_rows: int = SAMPLE_ROWS, seed: int = 0) -> None:
        self.limit = limit
        self.sample_rows = sample_rows
        self.seed = seed
        self.searches = 0
        self._rng = np.random.default_rng(seed)
        self._parts: list[pd.DataFrame] = []  # the model's columns and each search's key
        self._bar = np.inf  # keys at or above it are out of the sample for good
        self._first: int | None = None
        self._last: int | None = None

    @property
    def full(self) -> bool:
        """Whether ``limit`` searches are in: later batches would add nothing."""
        return self.limit is not None and self.searches >= self.limit

    def add(self, ctx: pd.DataFrame) -> None:
        """Learn from one featured batch, or from its first searches where it crosses ``limit``."""
        taken = np.ones(len(ctx), dtype=bool)
        if self.limit is not None and self.searches + len(ctx) > self.limit:
            taken = ctx["input_pos"].to_numpy() < self.limit - self.searches
        n = int(taken.sum())
        if not n:
            return
        self.searches += n
        key = np.full(len(ctx), np.inf)
        key[taken] = self._rng.random(n)
        keep = key < self._bar
        # only the model's columns: the context is wide
        self._parts.append(ctx.loc[keep, list(MODEL_FEATURES)].assign(_key=key[keep]))
        if sum(map(len, self._parts)) > 2 * self.sample_rows:  # let go of what can no longer be drawn
            self._parts = [self._sample()]
            self._bar = float(self._parts[0]["_key"].max())
        t = ctx["t"].to_numpy()[taken]
        self._first = int(t.min()) if self._first is None else min(self._first, int(t.min()))
        self._last = int(t.max()) if self._last is None else max(self._last, int(t.max()))

    def _sample(self) -> pd.DataFrame:
        """The ``sample_rows`` searches of smallest key, in feeding order."""
        kept = pd.concat(self._parts, ignore_index=True)
        if len(kept) <= self.sample_rows:
            return kept
        bar = np.partition(kept["_key"].to_numpy(), self.sample_rows - 1)[self.sample_rows - 1]
        return kept[kept["_key"].to_numpy() <= bar].reset_index(drop=True)

    def fit(self, grower: Grower | None = None) -> ModelBundle:
        """The model of what was added, its forest grown by ``grower`` if given; ``TooFewSearches``
        below ``MIN_SEARCHES``."""
        if self.searches < MIN_SEARCHES:
            raise TooFewSearches(f"{self.searches:,} searches, too few to fit the anomaly model (at least {MIN_SEARCHES})")
        sample = self._sample().drop(columns="_key")
        model = AnomalyModel(random_state=self.seed).fit(sample, grower)
        first, last = (pd.Timestamp(t, tz="UTC").isoformat() for t in (self._first, self._last))
        return ModelBundle(model=model, features=MODEL_FEATURES, versions=current_versions(),
                           training_range=(first, last), searches=self.searches)


def fit_model(dataset: str | Path, reference: Reference, policy: Policy, fmt: str | None = None,
              agency: str | None = None, sample_rows: int = SAMPLE_ROWS, seed: int = 0,
              limit: int | None = None) -> ModelBundle:
    """Run the detector's feature stages over ``dataset`` and fit on its ``History`` (see there)."""
    detector = Detector(reference, policy)
    dedup = Deduplicator()
    history = History(limit, sample_rows, seed)
    with closing(open_searches(dataset, RejectCounter(), fmt, agency)) as batches:  # closing: a full history stops early
        for batch in batches:
            batch = dedup(batch)
            if not batch.empty:
                history.add(detector.features(batch))
            if history.full:
                break
    try:
        return history.fit()
    except TooFewSearches as exc:
        raise TooFewSearches(f"{dataset}: {exc}") from None
