"""What the anomaly model learns from: the log's first searches in the order they are fed
(oldest first whatever the file's order: ``streams.order``), and within a batch in input order."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble._iforest import _average_path_length

from detector.schema import NS_DAY
from models.anomaly import MODEL_FEATURES
from models.train import History, TooFewSearches



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
    # the whole sample in every tree: fewer than 512
    assert bundle.model.trees_.normaliser == 100 * _average_path_length([120])[0]


def test_history_too_short_is_refused():
    history = History()
    history.add(featured(0, 20))
    with pytest.raises(TooFewSearches, match="20 searches, too few"):
        history.fit()


def test_the_sample_does_not_depend_on_how_the_searches_are_cut_into_batches():
    searches = pd.concat([featured(day, 100) for day in range(4)], ignore_index=True)
    searches["input_pos"] = np.arange(len(searches))
    models = []
    for cuts in ([0, 400], [0, 37, 150, 151, 400], [0, 200, 400]):
        history = History(sample_rows=90, seed=5)
        for a, b in zip(cuts, cuts[1:]):
            history.add(searches.iloc[a:b].assign(input_pos=np.arange(b - a)))
        models.append(history.fit().model)
    ctx = featured(9, 50)
    scores = [m.anomaly(ctx) for m in models]
    assert all(np.array_equal(scores[0], s) for s in scores[1:])
    assert all(m.trees_.normaliser == 100 * _average_path_length([90])[0] for m in models), "sample_rows searches"
