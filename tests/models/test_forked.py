"""The forked worker grows the forest the process itself would, and fails safe."""

import logging
import os
import sys
import subprocess

import numpy as np
import pandas as pd
import pytest

from models.anomaly import MODEL_FEATURES, AnomalyModel
from models.forked import ForkedGrower


def _history(searches: int = 2_000) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    return pd.DataFrame({name: rng.gamma(1.0, 3.0, searches) for name in MODEL_FEATURES})


def test_a_model_fitted_through_the_worker_equals_one_fitted_here():
    ctx = _history()
    here = AnomalyModel(random_state=4).fit(ctx)
    grower = ForkedGrower()
    there = AnomalyModel(random_state=4).fit(ctx, grower)
    for name in ("offsets", "left", "right", "feature", "threshold", "leaf_length"):
        np.testing.assert_array_equal(getattr(there.trees_, name), getattr(here.trees_, name))
    assert (there.q_low_, there.q_high_) == (here.q_low_, here.q_high_)
    assert grower._process is None  # one forest, then the worker is gone


def test_a_dead_worker_means_the_forest_is_grown_here(caplog):
    grower = ForkedGrower()
    os.kill(grower._process.pid, 9)
    grower._process.join()
    ctx = _history(300)
    with caplog.at_level(logging.WARNING, logger="models.forked"):
        model = AnomalyModel(random_state=1).fit(ctx, grower)
    assert "fitting here instead" in caplog.text
    expected = AnomalyModel(random_state=1).fit(ctx)
    np.testing.assert_array_equal(model.trees_.threshold, expected.trees_.threshold)


def test_ctrl_c_is_the_parents_to_handle(caplog):
    """Ctrl-C reaches the worker too (one process group); it leaves it to the parent, which closes it."""
    import signal
    import time

    grower = ForkedGrower()
    time.sleep(0.5)  # past the fork, into the worker's own code
    os.kill(grower._process.pid, signal.SIGINT)
    time.sleep(0.5)
    assert grower._process.is_alive()
    X = np.random.default_rng(2).random((300, len(MODEL_FEATURES)))
    model = AnomalyModel(n_estimators=5, max_samples=64)
    with caplog.at_level(logging.WARNING, logger="models.forked"):
        np.testing.assert_array_equal(grower.grow(model, X).threshold, model.grow(X).threshold)
    assert "fitting here instead" not in caplog.text  # grown by the worker, not after its death
    assert grower._process is None


def test_an_error_in_the_worker_is_raised_here():
    grower = ForkedGrower()
    with pytest.raises(ValueError):  # scikit-learn refuses an empty sample, in the worker
        grower.grow(AnomalyModel(), np.zeros((0, len(MODEL_FEATURES))))
    assert grower._process is None


@pytest.mark.parametrize("source", ["flock_network_audit.csv", "searches.csv"])
def test_the_replay_process_never_imports_scikit_learn(tmp_path, source):
    """The worker imports it: the replay of an export, or of canonical searches with places
    near sensitive sites, must not import it in its own process (see models.forked)."""
    from synthetic import generate

    generate(days=7, seed=3, searches=6_000).write(tmp_path / "data")
    code = (
        "import sys\n"
        "from streams.replay import replay\n"
        f"summary = replay({str(tmp_path / 'data' / source)!r}, {str(tmp_path / 'out')!r}, progress=False, fork_fit=True)\n"
        "assert summary.model.startswith('fitted'), summary.model\n"
        "print('sklearn' in sys.modules, 'scipy.spatial' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # the canonical file's area searches are looked up in the sites' tree, the export's have no place
    assert done.stdout.strip().splitlines()[-1] == f"False {source == 'searches.csv'}"
