"""Fitting the anomaly model on a history of searches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from detector.engine import Detector
from detector.policy import Policy
from detector.reference import Reference
from detector.validate import Deduplicator, RejectCounter
from models.anomaly import MODEL_FEATURES, AnomalyModel
from models.persist import ModelBundle, current_versions
from streams.sources import open_searches

SAMPLE_ROWS = 300_000
MIN_SEARCHES = 50


class TooFewSearches(ValueError):
    """A history too short to learn what is usual from."""


def fit_model(dataset: str | Path, reference: Reference, policy: Policy, fmt: str | None = None,
              agency: str | None = None, sample_rows: int = SAMPLE_ROWS, seed: int = 0,
              limit: int | None = None) -> ModelBundle:
    """Run the detector's feature stages over ``dataset`` and fit on a uniform sample of searches.

    The sample is drawn per batch in proportion, with a fixed seed, so the same data
    always gives the same model. ``limit`` stops after that many searches: enough
    history to learn what is usual, without a second full pass over a huge log.
    """
    detector = Detector(reference, policy)
    dedup = Deduplicator()
    rng = np.random.default_rng(seed)
    parts: list[pd.DataFrame] = []
    seen = 0
    first = last = None
    for batch in open_searches(dataset, RejectCounter(), fmt, agency):
        batch = dedup(batch)
        if batch.empty:
            continue
        ctx = detector.features(batch)
        seen += len(ctx)
        keep = rng.random(len(ctx)) < min(1.0, sample_rows / max(seen, 1) * 2)
        parts.append(ctx.loc[keep, list(MODEL_FEATURES)])
        lo, hi = batch["ts"].min(), batch["ts"].max()
        first = lo if first is None else min(first, lo)
        last = hi if last is None else max(last, hi)
        if limit is not None and seen >= limit:
            break
    if seen < MIN_SEARCHES:
        raise TooFewSearches(f"{dataset}: {seen} searches, too few to fit the anomaly model (at least {MIN_SEARCHES})")
    sample = pd.concat(parts, ignore_index=True)
    if len(sample) > sample_rows:
        sample = sample.sample(sample_rows, random_state=seed)
    model = AnomalyModel(random_state=seed).fit(sample)
    return ModelBundle(model=model, features=MODEL_FEATURES, versions=current_versions(),
                       training_range=(first.isoformat(), last.isoformat()), searches=seen)
