"""The run loop shared by replay and streaming: batches in, detector, results out.

Only the source of batches and what happens after each result (write files, or
commit a checkpoint) differ between the two, and both are passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from tqdm import tqdm

from streams.files import prefetched

if TYPE_CHECKING:  # the replay imports the detector while it starts reading (streams.replay)
    from detector.engine import BatchResult, Detector
    from detector.validate import Deduplicator


def progress_bar(enabled: bool, phase: str = "scoring") -> tqdm:
    """One bar for a whole replay, in searches read, labelled with its first ``phase``. The
    reading of a newest-first file (``streams.order``), the model's learning and the scoring
    each relabel it; the first resets it to count against the file's total."""
    return tqdm(unit=" searches", desc=phase, disable=not enabled, mininterval=0.5, leave=False)


@dataclass
class Featured:
    """A batch as read (``read`` searches), without its duplicates, and its features (``None`` if nothing is left)."""

    batch: pd.DataFrame
    ctx: pd.DataFrame | None
    read: int


# Searches featured at a time: a read batch is featured in pieces, so that the scoring
# (and a retrospective model's fit) starts on the first while the next is featured.
# Of searches in time order, features, scores and alerts do not depend on where batches
# are cut; a file out of order is put in order only within each piece.
FEATURE_ROWS = 125_000


def featuring(batches: Iterable[pd.DataFrame], detector: Detector, dedup: Deduplicator | None = None) -> Iterator[Featured]:
    """Every batch deduplicated and featured, one batch ahead of the caller, in a thread.

    The features (``Detector.features``) touch only the detector's feature state and the
    scoring (``Detector.decide``) only its model, fusion and alerts, so the next batch is
    featured while the caller scores this one (or fits a model): their compiled kernels
    and Arrow's release the GIL. In order; an error is raised where its batch would have
    come; closing the iterator stops the thread (``batches`` stay the caller's to close).
    Read batches are featured ``FEATURE_ROWS`` at a time.
    """
    def feature() -> Iterator[Featured]:
        for whole in batches:
            for start in range(0, len(whole), FEATURE_ROWS):
                batch = whole.iloc[start:start + FEATURE_ROWS]
                read = len(batch)
                if dedup is not None:
                    batch = dedup(batch)
                yield Featured(batch, None if batch.empty else detector.features(batch), read)

    return prefetched(feature())


def run_batches(
    featured: Iterable[Featured],
    detector: Detector,
    on_result: Callable[[pd.DataFrame, BatchResult], None],
    progress: tqdm | None = None,
) -> int:
    """Score every featured batch and hand each result on; returns the number of searches scored.

    ``progress`` counts the searches read, duplicates included, so that it ends at the
    total a newest-first file's reading set.
    """
    scored = 0
    for item in featured:
        if item.ctx is not None:
            on_result(item.batch, detector.decide(item.ctx))
            scored += len(item.batch)
        if progress is not None:
            progress.update(item.read)
    return scored
