"""A source's batches oldest first, whatever order its file lists the searches in.

The detector's features are causal and stateful: it puts each batch in time order
(``detector.engine.in_time_order``) but takes the batches as they come, so they must
come oldest first. Flock's audit exports list the newest search first; read in chunks
they would run time backwards from one batch to the next, and every per-user baseline,
repetition count and window would be built from the future. A file whose first searches
mostly go back in time is therefore read whole once, its canonical batches held as they
are read, and fed back from the end of the file, each batch reversed. Any other file
streams straight through.

Up to ``HOLD_BYTES`` of canonical batches (some 2 million searches) are held in memory:
reversing them there costs 0.1 s a million searches. A longer file spills them all to a
temporary directory instead, so memory stays at a batch or two for a 17-million-row
export, for the cost of writing and reading its batches once more: Arrow IPC with LZ4
(about 100 bytes a search), which on a 1M-row export writes in 0.3 s and reads back,
reversed, in 0.5 to 1 s, where Parquet took 1 to 1.3 s to write and zstd half as much
disk for 0.3 s more.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Generator, Iterator
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
from tqdm import tqdm

from detector.schema import ts_ns
from streams.files import prefetched

log = logging.getLogger(__name__)
# At least this many searches judge a file's order: its first batch, or more if batches are smaller.
JUDGED_SEARCHES = 1_000
# Below this rank correlation of time with position in the file, the file is newest first.
NEWEST_FIRST_BELOW = -0.5
# Above this share of searches fed after a newer batch, the file mixes orders and is warned about.
LATE_SHARE = 0.01
SPILL_COMPRESSION = "lz4"
# A newest-first file's canonical batches are held in memory up to this size, spilled to disk beyond.
HOLD_BYTES = 512 << 20


def goes_back_in_time(ts: pd.Series) -> bool:
    """Whether ``ts`` (in file order) mostly runs from the newest to the oldest.

    Spearman's rank correlation of time with position, not the share of steps back, so
    that a file sorted by day but not within days is judged by its days. An ascending
    file, or one unordered only within a bounded window, comes out near +1.
    """
    ranks = pd.Series(ts_ns(ts)).rank().to_numpy()  # Spearman's rho is Pearson's r of the ranks
    if len(ranks) < 2 or ranks.min() == ranks.max():
        return False
    return bool(np.corrcoef(ranks, np.arange(len(ranks)))[0, 1] < NEWEST_FIRST_BELOW)


def oldest_first(batches: Generator[pd.DataFrame, None, None], chunk_rows: int, source: str,
                 progress: tqdm | None = None) -> Generator[pd.DataFrame, None, None]:
    """``batches`` (canonical, in file order, read ``chunk_rows`` at a time) oldest first.

    A file whose first searches go back in time is fed exactly reversed, ``chunk_rows`` at
    a time from its last row: the batches the same rows listed oldest first would give,
    where no row is rejected. Its rejects are written as it is read, with their line
    numbers, before the first batch comes back; duplicates are left for the caller's
    dedup. ``progress`` counts the searches read, then is reset to count the run's
    searches against their total. Any other file is fed as read. Closing the iterator (or
    an error, or Ctrl-C) removes the spill and stops the reading. ``source`` names the
    file in log messages.
    """
    try:
        head: list[pd.DataFrame] = []
        for batch in batches:
            head.append(batch)
            if sum(map(len, head)) >= JUDGED_SEARCHES:
                break
        judged = pd.concat([b["ts"] for b in head] or [pd.Series([], dtype="datetime64[ns, UTC]")], ignore_index=True)
        read = _drained(head, batches)
        if goes_back_in_time(judged):
            log.info("%s lists its newest searches first: reading it whole, then feeding it to the detector "
                     "oldest first", source)
            read = _reversed(read, chunk_rows, progress if progress is not None else tqdm(disable=True))
        yield from _warn_if_mixed(read, source)
    finally:
        batches.close()


def _drained(head: list[pd.DataFrame], rest: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """``head`` then ``rest``, letting go of each head batch once it is handed on."""
    while head:
        yield head.pop(0)
    yield from rest


def _reversed(batches: Iterator[pd.DataFrame], chunk_rows: int, progress: tqdm) -> Iterator[pd.DataFrame]:
    """Every batch held in file order, then fed back from the last row, ``chunk_rows`` at a time.

    Held in memory while they take at most ``HOLD_BYTES``; past that, all of them are
    spilled to a temporary directory, removed when the feeding ends.
    """
    with ExitStack() as spill:
        phase = getattr(progress, "desc", "")  # a disabled bar has none
        progress.set_description_str("reading (newest first)")
        held: list[pd.DataFrame] = []
        size = 0
        parts: list[Path] = []
        directory: Path | None = None
        for batch in batches:
            if batch.empty:
                continue
            held.append(batch)
            size += int(batch.memory_usage(deep=True).sum())
            if size > HOLD_BYTES:
                if directory is None:
                    directory = Path(spill.enter_context(tempfile.TemporaryDirectory(prefix="alpr-watch-spill-")))
                while held:
                    parts.append(directory / f"{len(parts):06d}.arrow")
                    feather.write_feather(held.pop(0), parts[-1], compression=SPILL_COMPRESSION)
            progress.update(len(batch))
        progress.reset(total=progress.n)
        progress.set_description_str(phase)
        if parts:
            yield from prefetched(_read_back(parts, chunk_rows))
        else:
            yield from _reversed_in_memory(held, chunk_rows)


def _reversed_in_memory(frames: list[pd.DataFrame], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The held ``frames`` from the last row back, ``chunk_rows`` at a time: the batches
    ``_read_back`` gives. Each frame is let go of once taken."""
    pending: list[pd.DataFrame] = []
    held = 0
    while frames:
        pending.append(frames.pop().iloc[::-1])
        held += len(pending[-1])
        while held >= chunk_rows:
            frame = _joined(pending)
            yield frame.iloc[:chunk_rows].reset_index(drop=True)
            pending, held = [frame.iloc[chunk_rows:]], held - chunk_rows
    if held:
        yield _joined(pending).reset_index(drop=True)


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return frames[0] if len(frames) == 1 else pd.concat(frames)


def _read_back(parts: list[Path], chunk_rows: int) -> Generator[pd.DataFrame, None, None]:
    """The spilled ``parts`` from the last row back, ``chunk_rows`` at a time; each part is deleted once read."""
    pending: list[pa.Table] = []
    held = 0
    for part in reversed(parts):
        table = feather.read_table(part)
        part.unlink()
        pending.append(table.take(np.arange(len(table) - 1, -1, -1)))
        held += len(table)
        while held >= chunk_rows:
            table = pa.concat_tables(pending)
            yield table.slice(0, chunk_rows).to_pandas()
            pending, held = [table.slice(chunk_rows)], held - chunk_rows
    if held:
        yield pa.concat_tables(pending).to_pandas()


def _warn_if_mixed(batches: Iterator[pd.DataFrame], source: str) -> Iterator[pd.DataFrame]:
    """``batches``, warning at the end if many searches came after a batch holding newer ones.

    That happens when one file holds several orders, e.g. exports concatenated oldest
    export first, each newest first: such searches were described without the searches
    before them that the file lists after them.
    """
    newest: int | None = None
    late = fed = 0
    for batch in batches:
        t = ts_ns(batch["ts"])
        if len(t):
            late += int((t < newest).sum()) if newest is not None else 0
            newest = int(t.max()) if newest is None else max(newest, int(t.max()))
            fed += len(t)
        yield batch
    if late > LATE_SHARE * fed:
        log.warning("%s: %s of %s searches (%.1f%%) came after searches newer than them: the file is not in one "
                    "time order (several exports concatenated?), so their features miss the searches before "
                    "them listed later; sort the file by time for exact figures", source, f"{late:,}", f"{fed:,}",
                    100 * late / fed)
