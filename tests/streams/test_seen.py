"""SeenIds answers as a plain set of ids with their times would, across merges and forgetting."""

import numpy as np
import pytest

from streams import seen as seen_module
from streams.seen import SeenIds


@pytest.mark.parametrize("merge_at", [1, 7, 1 << 16])
def test_seen_ids_agree_with_a_set_across_merges_and_forgetting(monkeypatch, merge_at):
    monkeypatch.setattr(seen_module, "MERGE_AT", merge_at)
    rng = np.random.default_rng(merge_at)
    seen, model = SeenIds(), {}  # model: id -> time of the search remembered
    clock = 0
    for poll in range(300):
        n = int(rng.integers(0, 12))
        ids = rng.integers(0, 400, n).astype(np.uint64)  # a small id space: repeats within and across polls
        t = clock + rng.integers(0, 5, n)
        clock += 3
        forget_before = max(0, clock - 200) if poll % 5 == 0 else 0
        model = {k: v for k, v in model.items() if v >= forget_before} if forget_before else model
        expected = []
        for k, tk in zip(ids.tolist(), t.tolist()):
            expected.append(k not in model)
            model.setdefault(k, tk)
        assert seen.first_sightings(ids, t, forget_before).tolist() == expected
        assert len(seen) == len(model)
    held, times = seen.arrays()
    assert held.tolist() == sorted(model) and times.tolist() == [model[k] for k in sorted(model)]
    # a checkpoint's arrays rebuild the same answers
    again = SeenIds(held, times)
    probe = np.arange(0, 400, dtype=np.uint64)
    assert again.first_sightings(probe, np.full(400, clock), 0).tolist() == [k not in model for k in range(400)]
