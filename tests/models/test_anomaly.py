"""The model's compiled walk of its forest scores exactly as scikit-learn's own."""

import numpy as np
import pandas as pd
import pytest

from models.anomaly import MODEL_FEATURES, AnomalyModel, feature_matrix


# a forest of trees smaller than 512, of full ones, and searches enough to be walked on two threads
@pytest.mark.parametrize("searches", [60, 3_000, 25_000])
def test_the_forest_scores_bit_for_bit_as_scikit_learn(searches):
    rng = np.random.default_rng(searches)
    ctx = pd.DataFrame({name: rng.gamma(1.0, 3.0, searches) for name in MODEL_FEATURES})
    ctx["has_case"] = rng.random(searches) < 0.5
    model = AnomalyModel(random_state=3).fit(ctx)
    X = feature_matrix(ctx)
    X[::7, 2] = np.nan  # never in a featured context, but walked as scikit-learn walks it
    X[::5, 4] = 1e300  # beyond float32: infinite once cast, as in scikit-learn
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(model._raw(X), -model.forest_.score_samples(X))


def test_the_percentiles_are_those_of_the_training_scores():
    rng = np.random.default_rng(0)
    ctx = pd.DataFrame({name: rng.random(2_000) for name in MODEL_FEATURES})
    model = AnomalyModel(random_state=0).fit(ctx)
    expected = np.quantile(-model.forest_.score_samples(feature_matrix(ctx)), [0.99, 0.9995])
    assert (model.q_low_, model.q_high_) == tuple(expected)
