"""The search ids a stream partition has taken: what its dedup asks of every poll.

A replay's ``Deduplicator`` sees a log once; a stream keeps months of ids and is asked
about a few hundred new ones a poll. Held as one sorted array, every poll's insert
copied the whole history (months of ids, hundreds of megabytes at a busy partition).
Here new ids go to a small sorted array, merged into the large one once it holds an
eighth as many: a poll costs its own size and a binary search, the merges a few
copies of the history in all. Forgetting (ids of searches older than the feature
state remembers) filters both only when the oldest id held has expired.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MERGE_AT = 1 << 16  # the small array is merged into the large one from this many ids (or an eighth of it)
NEVER = np.iinfo(np.int64).max


class SeenIds:
    """Hashed search ids with the time each search ran, sorted by id.

    >>> seen = SeenIds()
    >>> seen.first_sightings(np.array([5, 3, 5], dtype=np.uint64), np.full(3, 10), forget_before=0).tolist()
    [True, True, False]
    >>> seen.first_sightings(np.array([3, 7], dtype=np.uint64), np.full(2, 20), forget_before=0).tolist()
    [False, True]
    >>> seen.first_sightings(np.array([3], dtype=np.uint64), np.full(1, 30), forget_before=15).tolist()  # 3 ran at 10
    [True]
    >>> [a.tolist() for a in seen.arrays()]
    [[3, 7], [30, 20]]
    """

    def __init__(self, ids: np.ndarray | None = None, times: np.ndarray | None = None) -> None:
        self._big = np.zeros(0, dtype=np.uint64) if ids is None else ids
        self._big_t = np.zeros(0, dtype=np.int64) if times is None else times
        self._small = np.zeros(0, dtype=np.uint64)
        self._small_t = np.zeros(0, dtype=np.int64)
        self._oldest = int(self._big_t.min()) if len(self._big_t) else NEVER

    def __len__(self) -> int:
        return len(self._big) + len(self._small)

    def first_sightings(self, hashed: np.ndarray, t: np.ndarray, forget_before: int) -> np.ndarray:
        """Which of ``hashed`` (searches run at ``t``) are new: first in the batch and not held;
        remembers those, and forgets the ids of searches run before ``forget_before``."""
        if forget_before > self._oldest:
            self._forget(forget_before)
        fresh = ~pd.Series(hashed).duplicated().to_numpy()
        for held in (self._big, self._small):
            if len(held):
                at = np.minimum(np.searchsorted(held, hashed), len(held) - 1)
                fresh &= held[at] != hashed
        new, new_t = hashed[fresh], t[fresh]
        if len(new):
            order = np.argsort(new)
            self._small, self._small_t = _merged(self._small, self._small_t, new[order], new_t[order])
            self._oldest = min(self._oldest, int(new_t.min()))
            if len(self._small) >= max(MERGE_AT, len(self._big) // 8):
                self._big, self._big_t = _merged(self._big, self._big_t, self._small, self._small_t)
                self._small, self._small_t = self._small[:0], self._small_t[:0]
        return fresh

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All the ids held, sorted, and their search times (what a checkpoint keeps)."""
        return _merged(self._big, self._big_t, self._small, self._small_t)

    def _forget(self, before: int) -> None:
        keep = self._big_t >= before
        self._big, self._big_t = self._big[keep], self._big_t[keep]
        keep = self._small_t >= before
        self._small, self._small_t = self._small[keep], self._small_t[keep]
        held = np.concatenate([self._big_t, self._small_t])
        self._oldest = int(held.min()) if len(held) else NEVER


def _merged(a: np.ndarray, a_t: np.ndarray, b: np.ndarray, b_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two id-sorted arrays (and their times) as one, sorted."""
    if not len(b):
        return a, a_t
    at = np.searchsorted(a, b)
    return np.insert(a, at, b), np.insert(a_t, at, b_t)
