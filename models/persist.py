"""Saving and loading models with what they were trained on and with.

A model is only meaningful with the exact feature list and library versions it was
fit with; loading checks both and says what does not match instead of scoring
silently wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import joblib
import numpy as np

from models.anomaly import MODEL_FEATURES, AnomalyModel

FORMAT = 2  # 2: the forest kept as plain arrays (models.anomaly.Trees), not scikit-learn's objects


class ModelMismatchError(ValueError):
    """The model file does not fit this installation."""


@dataclass
class ModelBundle:
    model: AnomalyModel
    features: tuple[str, ...]
    versions: dict[str, str]
    training_range: tuple[str, str]
    searches: int
    format: int = FORMAT

    def score_searches(self, ctx, pattern_strength=None) -> np.ndarray:
        return self.model.score_searches(ctx, pattern_strength)


def current_versions() -> dict[str, str]:
    return {"alpr-watch": version("alpr-watch"), "scikit-learn": version("scikit-learn"), "numpy": np.__version__}


def save_model(bundle: ModelBundle, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(bundle, path, compress=3)


def load_model(path: str | Path) -> ModelBundle:
    """Load and check a model file; raises ModelMismatchError naming what differs."""
    path = Path(path)
    if not path.exists():
        raise ModelMismatchError(f"{path}: no such model file")
    try:
        bundle = joblib.load(path)
    except Exception as exc:  # joblib/pickle raise many types for a foreign or broken file
        raise ModelMismatchError(f"{path}: not an alpr-watch model file ({exc.__class__.__name__}: {exc})") from exc
    if not isinstance(bundle, ModelBundle):
        raise ModelMismatchError(f"{path}: not an alpr-watch model file (holds {type(bundle).__name__})")
    if bundle.format != FORMAT:
        raise ModelMismatchError(f"{path}: model format {bundle.format}, this version reads format {FORMAT}; retrain with 'alpr-watch train'")
    if tuple(bundle.features) != MODEL_FEATURES:
        raise ModelMismatchError(
            f"{path}: trained on features {list(bundle.features)}, this version computes {list(MODEL_FEATURES)}; retrain with 'alpr-watch train'"
        )
    ours = current_versions()["scikit-learn"].split(".")[:2]
    theirs = bundle.versions.get("scikit-learn", "?").split(".")[:2]
    if ours != theirs:
        raise ModelMismatchError(
            f"{path}: trained with scikit-learn {bundle.versions.get('scikit-learn')}, this installation has {current_versions()['scikit-learn']}; retrain with 'alpr-watch train'"
        )
    return bundle
