"""Fusion: context signals rank a search without a pattern, within a band far under the flag."""

import numpy as np

from detector.rules import SIGNAL_INDEX, SIGNALS
from detector.scoring import BACKGROUND, CONTEXT_SIGNALS, Fusion


def _signals(**strengths: float) -> np.ndarray:
    S = np.zeros((1, len(SIGNALS)))
    for name, value in strengths.items():
        S[0, SIGNAL_INDEX[name]] = value
    return S


def test_context_alone_ranks_a_search_but_never_near_the_flag():
    fusion = Fusion()
    routine = _signals()
    caseless_vague = _signals(no_case_number=1, vague_reason=1)
    everything = _signals(**{name: 1.0 for name in CONTEXT_SIGNALS})
    scores = [fusion.score(S)[0][0] for S in (routine, caseless_vague, everything)]
    assert scores[0] == 0 and 0 < scores[1] < scores[2] <= BACKGROUND < fusion.threshold


def test_a_weak_pattern_never_ranks_under_the_same_context_without_it():
    fusion = Fusion()
    context = dict(no_case_number=1, vague_reason=1, off_shift=1)
    without, without_attr = fusion.score(_signals(**context))
    weak, weak_attr = fusion.score(_signals(repeat_plate=0.01, **context))
    strong, _ = fusion.score(_signals(repeat_plate=1.0, **context))
    assert weak[0] >= without[0] and strong[0] > fusion.threshold
    for score, attr in ((without, without_attr), (weak, weak_attr)):
        assert np.isclose(attr.sum(), score[0])  # attributions still add up to the score
