"""State forgets what went idle: a pair idle beyond the memory counts afresh, and dropping its rows changes nothing."""

import numpy as np
import pandas as pd
import pytest

from batches import REF, days, make_batch
from detector.engine import Detector
from detector.features import TargetSide, UserSide
from detector.policy import load_policy
from detector.reference import load_reference
from detector.validate import RejectCounter
from streams.files import read_searches
from synthetic import generate


def _detector(reference, forget_days: float) -> Detector:
    det = Detector(reference, load_policy("california"))
    det.user_side, det.target_side = UserSide(forget_days=forget_days), TargetSide(forget_days=forget_days)
    return det


def test_a_pair_idle_beyond_the_memory_counts_afresh():
    back = [{"ts": t, "plate": "EX9", "plate_state": "TX", "networks_searched": 500} for t in days(3)]
    soon = [{"ts": "2025-10-30T10:00:00Z", "plate": "EX9", "plate_state": "TX", "networks_searched": 500}]
    late = [{"ts": "2025-11-30T10:00:00Z", "plate": "EX9", "plate_state": "TX", "networks_searched": 500}]
    for rows, count, prior, new in ((back + soon, 4, 3, 0.0), (back + late, 1, 0, 1.0)):
        ctx = _detector(REF, forget_days=30).features(make_batch(rows))
        last = ctx.iloc[-1]
        # the user's lookups of the plate, the plate's earlier lookups, and whether the agency knows the person
        assert (last["up_count"], last["plate_prior"], last["far_new"]) == (count, prior, new)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    path = tmp_path_factory.mktemp("forget")
    generate(days=45, searches=12_000, seed=5).write(path)
    return load_reference(path), [b for b in read_searches(path, RejectCounter(), chunk_rows=1_500)]


def test_forgetting_idle_rows_changes_no_feature_and_resumes_from_a_checkpoint(world):
    reference, batches = world
    kept, forgetting = _detector(reference, 14), _detector(reference, 14)
    kept.user_side.forget = kept.target_side.forget = lambda now=None: None  # never drops a row
    for k, batch in enumerate(batches):
        a, b = kept.features(batch), forgetting.features(batch)
        pd.testing.assert_frame_equal(a, b)
        forgetting.user_side.forget()
        forgetting.target_side.forget()
        if k == len(batches) // 2:  # through a checkpoint, as a stream resumes
            user, target = UserSide(forget_days=14), TargetSide(forget_days=14)
            user.load_arrays(forgetting.user_side.to_arrays())
            target.load_arrays(forgetting.target_side.to_arrays())
            forgetting.user_side, forgetting.target_side = user, target
    for side in ("user_side", "target_side"):
        held, left = getattr(kept, side), getattr(forgetting, side)
        assert len(left.plates) < 0.7 * len(held.plates)
    assert forgetting.user_side.pair.size < 0.7 * kept.user_side.pair.size
    assert forgetting.target_side.plate_user.size < 0.7 * kept.target_side.plate_user.size
    assert forgetting.user_side.linked.size < 0.7 * kept.user_side.linked.size


def test_a_timestamp_mistyped_years_ahead_does_not_make_the_state_forget_what_is_live(world):
    reference, batches = world
    batches = [b.copy() for b in batches]
    batches[3].loc[5, "ts"] = pd.Timestamp("2205-11-20T10:00:00Z")  # 2025 typed as 2205
    kept, forgetting = _detector(reference, 14), _detector(reference, 14)
    kept.user_side.forget = kept.target_side.forget = lambda now=None: None
    for batch in batches:
        pd.testing.assert_frame_equal(kept.features(batch), forgetting.features(batch))
        forgetting.user_side.forget()
        forgetting.target_side.forget()


def test_the_memory_must_cover_the_windows_it_counts_in():
    with pytest.raises(ValueError, match="sweep window"):
        UserSide(forget_days=5)
    with pytest.raises(ValueError, match="window"):
        TargetSide(forget_days=7)
