"""The model's compiled walk of its forest scores exactly as scikit-learn's own."""

import subprocess
import sys

import joblib
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
        forest = model.forest(len(ctx)).fit(feature_matrix(ctx))  # the same forest, grown again
        np.testing.assert_array_equal(model._raw(X), -forest.score_samples(X))


def test_the_percentiles_are_those_of_the_training_scores():
    rng = np.random.default_rng(0)
    ctx = pd.DataFrame({name: rng.random(2_000) for name in MODEL_FEATURES})
    model = AnomalyModel(random_state=0).fit(ctx)
    X = feature_matrix(ctx)
    expected = np.quantile(-model.forest(len(X)).fit(X).score_samples(X), [0.99, 0.9995])
    assert (model.q_low_, model.q_high_) == tuple(expected)


def test_a_fitted_model_scores_and_travels_without_scikit_learn(tmp_path):
    rng = np.random.default_rng(1)
    ctx = pd.DataFrame({name: rng.random(300) for name in MODEL_FEATURES})
    model = AnomalyModel(random_state=1).fit(ctx)
    joblib.dump(model, tmp_path / "model.joblib")
    probe = f"""
import sys, joblib, numpy as np, pandas as pd
from models.anomaly import MODEL_FEATURES
model = joblib.load({str(tmp_path / "model.joblib")!r})
ctx = pd.DataFrame({{name: np.linspace(0, 1, 5) for name in MODEL_FEATURES}})
print(model.anomaly(ctx).round(6).tolist(), "sklearn" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    probe_ctx = pd.DataFrame({name: np.linspace(0, 1, 5) for name in MODEL_FEATURES})
    assert out.split("] ")[1].strip() == "False", "loading and scoring imported scikit-learn"
    assert out.split("] ")[0] + "]" == str(model.anomaly(probe_ctx).round(6).tolist())
