"""The default replay learns its model from the log's first searches in the same pass that scores them.

It must score exactly as a replay with ``--model`` of a model trained (``alpr-watch train``'s
``fit_model``) on those same searches: the model sees the same causal features either way.
Batches of 3,000 searches and a history of 5,000 make the history end inside a batch.
"""


import pytest

import models.train
from detector.policy import load_policy
from detector.reference import load_reference
from models.persist import save_model
from models.train import fit_model
from streams.replay import home_state, replay
from synthetic import generate

CHUNK = 3_000
HISTORY = 5_000
SAMPLE = 4_000


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("retrospective")
    generate(days=14, seed=7, searches=8_000).write(root / "data")
    return root / "data"


@pytest.fixture
def small_batches(small_replay):
    small_replay(CHUNK, HISTORY, SAMPLE)


def outputs(out):
    return (out / "scores.csv").read_bytes(), (out / "alerts.jsonl").read_bytes()


def test_one_pass_scores_as_a_model_trained_on_the_same_first_searches(data, small_batches, tmp_path):
    summary = replay(data, tmp_path / "retrospective", progress=False)
    assert summary.scored == 8_000
    assert f"its earliest {HISTORY:,} searches" in summary.model

    reference = load_reference(data)
    bundle = fit_model(data, reference, load_policy("auto", home_state(reference)), sample_rows=SAMPLE, limit=HISTORY)
    assert bundle.searches == HISTORY
    save_model(bundle, tmp_path / "model.joblib")
    replay(data, tmp_path / "trained", model=tmp_path / "model.joblib", progress=False)
    assert outputs(tmp_path / "retrospective") == outputs(tmp_path / "trained")

    replay(data, tmp_path / "rules", retrospective=False, progress=False)
    assert outputs(tmp_path / "rules")[0] != outputs(tmp_path / "retrospective")[0], "the model takes part in the scores"


def test_a_log_too_short_for_a_model_is_scored_by_the_rules_alone(data, small_batches, monkeypatch, tmp_path):
    monkeypatch.setattr(models.train, "MIN_SEARCHES", 10_000)
    summary = replay(data, tmp_path / "retrospective", progress=False)
    assert summary.model.startswith(f"none ({HISTORY:,} searches, too few")
    assert summary.scored == 8_000
    replay(data, tmp_path / "rules", retrospective=False, progress=False)
    assert outputs(tmp_path / "retrospective") == outputs(tmp_path / "rules")


@pytest.mark.parametrize("piece", [700, 2_500])
def test_scores_do_not_depend_on_the_pieces_batches_are_featured_in(data, small_batches, monkeypatch, tmp_path, piece):
    import streams.loop

    whole = replay(data, tmp_path / "whole", progress=False)
    monkeypatch.setattr(streams.loop, "FEATURE_ROWS", piece)  # batches of 3,000 read, featured in pieces
    pieces = replay(data, tmp_path / "pieces", progress=False)
    assert (whole.scored, whole.alerts) == (pieces.scored, pieces.alerts)
    assert outputs(tmp_path / "whole") == outputs(tmp_path / "pieces")
