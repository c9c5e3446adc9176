"""The run loop shared by replay and streaming: batches in, detector, results out.

Only the source of batches and what happens after each result (write files, or
commit a checkpoint) differ between the two, and both are passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import pandas as pd
from tqdm import tqdm

if TYPE_CHECKING:  # the replay imports the detector while it starts reading (streams.replay)
    from detector.engine import BatchResult, Detector
    from detector.validate import Deduplicator


def progress_bar(enabled: bool, phase: str = "scoring") -> tqdm:
    """One bar for a whole replay, in searches read, labelled with its first ``phase``. The
    reading of a newest-first file (``streams.order``), the model's learning and the scoring
    each relabel it; the first resets it to count against the file's total."""
    return tqdm(unit=" searches", desc=phase, disable=not enabled, mininterval=0.5, leave=False)


def run_batches(
    batches: Iterable[pd.DataFrame],
    detector: Detector,
    on_result: Callable[[pd.DataFrame, BatchResult], None],
    dedup: Deduplicator | None = None,
    progress: tqdm | None = None,
) -> int:
    """Feed every batch through the detector; returns the number of searches scored.

    ``progress`` counts the searches read, duplicates included, so that it ends at the
    total a newest-first file's reading set.
    """
    scored = 0
    for batch in batches:
        read = len(batch)
        if dedup is not None:
            batch = dedup(batch)
        if not batch.empty:
            on_result(batch, detector.process(batch))
            scored += len(batch)
        if progress is not None:
            progress.update(read)
    return scored
