import joblib
import numpy as np
import pandas as pd
import pytest

from models.anomaly import MODEL_FEATURES, AnomalyModel
from models.persist import ModelBundle, ModelMismatchError, current_versions, load_model, save_model


def bundle(**over):
    rng = np.random.default_rng(1)
    ctx = pd.DataFrame({f: rng.random(300) for f in MODEL_FEATURES})
    fields = dict(model=AnomalyModel(random_state=0).fit(ctx), features=MODEL_FEATURES, versions=current_versions(),
                  training_range=("2025-01-01T00:00:00+00:00", "2025-02-01T00:00:00+00:00"), searches=300)
    fields.update(over)
    return ModelBundle(**fields), ctx


def test_round_trip_scores_identically(tmp_path):
    b, ctx = bundle()
    save_model(b, tmp_path / "m.joblib")
    loaded = load_model(tmp_path / "m.joblib")
    assert loaded.training_range == b.training_range and loaded.searches == 300
    np.testing.assert_array_equal(loaded.model.anomaly(ctx), b.model.anomaly(ctx))


def test_feature_list_mismatch_is_named(tmp_path):
    b, _ = bundle(features=MODEL_FEATURES[:-1])
    save_model(b, tmp_path / "m.joblib")
    with pytest.raises(ModelMismatchError, match="trained on features .* retrain"):
        load_model(tmp_path / "m.joblib")


def test_library_version_mismatch_is_named(tmp_path):
    b, _ = bundle(versions={**current_versions(), "scikit-learn": "0.1.0"})
    save_model(b, tmp_path / "m.joblib")
    with pytest.raises(ModelMismatchError, match="scikit-learn 0.1.0"):
        load_model(tmp_path / "m.joblib")


def test_foreign_and_missing_files(tmp_path):
    joblib.dump({"not": "a model"}, tmp_path / "other.joblib")
    with pytest.raises(ModelMismatchError, match="not an alpr-watch model file"):
        load_model(tmp_path / "other.joblib")
    (tmp_path / "junk.joblib").write_bytes(b"garbage")
    with pytest.raises(ModelMismatchError, match="not an alpr-watch model file"):
        load_model(tmp_path / "junk.joblib")
    with pytest.raises(ModelMismatchError, match="no such model file"):
        load_model(tmp_path / "none.joblib")


def test_fit_needs_enough_history():
    with pytest.raises(ValueError, match="at least 50"):
        AnomalyModel().fit(pd.DataFrame({f: [0.0] * 10 for f in MODEL_FEATURES}))
