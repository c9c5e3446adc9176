"""What the anomaly model learns from: the log's first searches in the order they are fed
(oldest first whatever the file's order: ``streams.order``), and within a batch in input order."""

import numpy as np
import pandas as pd
import pytest

from models.anomaly import MODEL_FEATURES
from models.train import History, TooFewSearches

NS_DAY = 86_400 * 10**9


def featured(first_day: int, n: int) -> pd.DataFrame:
    """A featured batch as ``Detector.features`` hands it over: in time order, of input listed
    out of time order (a jumbled file, within one batch), so that input position runs against time."""
    rng = np.random.default_rng(first_day)
    ctx = pd.DataFrame({name: rng.random(n) for name in MODEL_FEATURES})
    ctx["t"] = (first_day + np.arange(n) / n) * NS_DAY
    ctx["input_pos"] = np.arange(n)[::-1]
    return ctx


def test_history_keeps_the_logs_first_searches_where_a_batch_crosses_the_limit():
    history = History(limit=150)
    history.add(featured(10, 100))
    assert not history.full
    crossing = featured(5, 100)
    history.add(crossing)  # its first 50 searches in the log are its newest 50
    assert history.full and history.searches == 150
    history.add(featured(1, 100))
    bundle = history.fit()
    assert bundle.searches == 150
    newest_kept = pd.Timestamp(crossing["t"].iloc[50], tz="UTC")
    assert bundle.training_range == (newest_kept.isoformat(), pd.Timestamp(featured(10, 100)["t"].max(), tz="UTC").isoformat())


def test_history_fits_on_at_most_sample_rows_searches():
    history = History(sample_rows=120, seed=3)
    for day in range(3):
        history.add(featured(day, 100))
    bundle = history.fit()
    assert bundle.searches == 300
    assert bundle.model.forest_.n_features_in_ == len(MODEL_FEATURES)
    assert bundle.model.forest_.max_samples_ == 120  # the whole sample: fewer than 512 per tree


def test_history_too_short_is_refused():
    history = History()
    history.add(featured(0, 20))
    with pytest.raises(TooFewSearches, match="20 searches, too few"):
        history.fit()
