"""The run loop shared by replay and streaming: batches in, detector, results out.

Only the source of batches and what happens after each result (write files, or
commit a checkpoint) differ between the two, and both are passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd
from tqdm import tqdm

from detector.engine import BatchResult, Detector
from detector.validate import Deduplicator


def run_batches(
    batches: Iterable[pd.DataFrame],
    detector: Detector,
    on_result: Callable[[pd.DataFrame, BatchResult], None],
    dedup: Deduplicator | None = None,
    progress: bool = True,
) -> int:
    """Feed every batch through the detector; returns the number of searches scored."""
    scored = 0
    with tqdm(unit=" searches", desc="scoring", disable=not progress, mininterval=0.5, leave=False) as bar:
        for batch in batches:
            if dedup is not None:
                batch = dedup(batch)
            if batch.empty:
                continue
            result = detector.process(batch)
            on_result(batch, result)
            scored += len(batch)
            bar.update(len(batch))
    return scored
