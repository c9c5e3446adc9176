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


def test_the_detector_scores_the_model_only_where_a_pattern_fires():
    from batches import REF, days, make_batch
    from detector.engine import Detector
    from detector.policy import load_policy
    from detector.rules import PATTERN_SIGNALS, SIGNAL_INDEX

    rng = np.random.default_rng(5)
    ordinary = [{"ts": t, "user_id": f"u{rng.integers(20)}", "plate": f"P{rng.integers(300)}", "reason": "inv",
                 "case_number": f"C{i}" if rng.random() < 0.7 else ""} for i, t in enumerate(days(400, step="1h"))]
    model = AnomalyModel(random_state=0).fit(Detector(REF, load_policy("california")).features(make_batch(ordinary)))
    stalking = [{"ts": t, "user_id": "u1", "plate": "EX1", "reason": "inv"} for t in days(10, start="2025-11-20T10:00:00Z")]
    S = Detector(REF, load_policy("california"), model=model).process(make_batch(ordinary + stalking)).signals
    pattern = S[:, [SIGNAL_INDEX[s] for s in PATTERN_SIGNALS]].max(axis=1) > 0
    anomaly = S[:, SIGNAL_INDEX["model_anomaly"]]
    assert pattern[-1]
    assert (anomaly[~pattern] == 0).all()  # scored only where the fusion gives it weight
    assert anomaly[-1] > 0.5  # the tenth unexplained lookup of one plate is unlike anything ordinary
    without = Detector(REF, load_policy("california")).process(make_batch(ordinary + stalking)).signals
    assert without[:, SIGNAL_INDEX["model_anomaly"]].max() == 0
