"""A source's batches oldest first, whatever order its file lists the searches in.

The detector's features are causal and stateful: it puts each batch in time order
(``detector.engine.in_time_order``) but takes the batches as they come, so they must
come oldest first, each in time order and none older than the one before. Flock's audit
exports list the newest search first; a public-records release parsed from print lists
blocks of days out of order; a generated log may have its incidents appended after the
rest. Read in chunks, each would run time backwards from one batch to the next, and
every per-user baseline, repetition count and window would be built from the future. So
a file not known to list its searches oldest first is read whole once, its canonical
batches held as they are read, and fed back in the order a stream takes them: by time,
searches of one instant by search id. A file whose times a quick scan found in order
(``streams.files.listed_in_time_order``) streams straight through, each instant's
searches put in that order as they come.

Up to ``HOLD_BYTES`` of canonical batches (some 2 million searches) are held in memory:
sorting them there costs 0.1 s a million searches. A longer file spills them all to a
temporary directory instead, each batch sorted first, and is fed by merging them, so
memory stays at a batch and a slice of each spilled one for a 17-million-row export,
for the cost of writing and reading its batches once more: Arrow IPC with LZ4 (about
100 bytes a search), which on a 1M-row export writes in 0.3 s and reads back in 0.5 to
1 s, where Parquet took 1 to 1.3 s to write and zstd half as much disk for 0.3 s more.
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
import pyarrow.compute as pc
import pyarrow.feather as feather
from tqdm import tqdm

from detector.schema import ts_ns
from streams.files import prefetched

log = logging.getLogger(__name__)
# At least this many searches judge whether a file lists its newest first: its first batch, or more.
JUDGED_SEARCHES = 1_000
# Below this rank correlation of time with position in the file, the file is newest first.
NEWEST_FIRST_BELOW = -0.5
SPILL_COMPRESSION = "lz4"
# A file's canonical batches are held in memory up to this size, spilled to disk beyond.
HOLD_BYTES = 512 << 20
# Rows of a spilled batch read back at a time: the merge holds about so many of each batch.
SPILL_SLICE_ROWS = 8_192


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
                 progress: tqdm | None = None, listed_in_order: bool = False) -> Generator[pd.DataFrame, None, None]:
    """``batches`` (canonical, in file order, read ``chunk_rows`` at a time) oldest first.

    Fed as read where ``listed_in_order`` (``streams.files.listed_in_time_order``), but
    for each instant's searches, put in search-id order (``_by_instant``). Otherwise the whole file is read, its rejects written with their line numbers as it
    is, and fed back in the order a stream takes searches in (``streams.merge.ORDER``: by
    time, searches of one instant by search id), about ``chunk_rows`` at a time (a batch
    ends after the last search of its last instant): the same batches whatever order the
    file lists the same rows in, where none is rejected. Duplicates are left for the
    caller's dedup. ``progress`` counts the searches read, then is reset to count the
    run's searches against their total. Closing the iterator (or an error, or Ctrl-C)
    removes the spill and stops the reading. ``source`` names the file in log messages.
    """
    try:
        if listed_in_order:
            yield from _by_instant(batches)
        else:
            yield from _sorted(batches, chunk_rows, source, progress if progress is not None else tqdm(disable=True))
    finally:
        batches.close()


def _by_instant(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """``batches`` whose times never go back, in search order: each one's searches of an
    instant by search id, and those of an instant two batches share fed together, in a
    batch of their own between them (batches need no fixed size)."""
    carry: pd.DataFrame | None = None  # the searches of the last instant read so far
    empty = None
    for batch in batches:
        if batch.empty:
            empty = batch
            continue
        t = ts_ns(batch["ts"])
        lead = 0
        if carry is not None and t[0] == ts_ns(carry["ts"])[0]:
            lead = int(np.searchsorted(t, t[0], side="right"))
            carry = pd.concat([carry, batch.iloc[:lead]], ignore_index=True)
            if lead == len(batch):
                continue
        if carry is not None:
            yield _frame_in_search_order(carry)
        cut = int(np.searchsorted(t, t[-1], side="left"))  # where the batch's last instant starts
        if cut > lead:
            yield _frame_in_search_order(batch.iloc[lead:cut])
        carry = batch.iloc[cut:]
    if carry is not None:
        yield _frame_in_search_order(carry)
    elif empty is not None:
        yield empty


def _sorted(batches: Iterator[pd.DataFrame], chunk_rows: int, source: str, progress: tqdm) -> Iterator[pd.DataFrame]:
    """Every batch held as read, then fed in search order about ``chunk_rows`` at a time.

    Held in memory while they take at most ``HOLD_BYTES``; past that, all of them are
    spilled, each in search order, to a temporary directory removed when the feeding
    ends, and merged as they are read back.
    """
    with ExitStack() as spill:
        phase = getattr(progress, "desc", "")  # a disabled bar has none
        progress.set_description_str("reading (to sort by time)")
        held: list[pd.DataFrame] = []
        size = 0
        head: list[np.ndarray] = []  # the times that judge the file newest first
        in_order, last = True, None
        parts: list[Path] = []
        times: list[np.ndarray] = []
        directory: Path | None = None
        empty = None
        for batch in batches:
            progress.update(len(batch))
            if batch.empty:
                empty = batch
                continue
            t = ts_ns(batch["ts"])
            in_order = in_order and bool(np.all(t[1:] >= t[:-1])) and (last is None or t[0] >= last)
            last = int(t[-1])
            if sum(map(len, head)) < JUDGED_SEARCHES:
                head.append(t)
            held.append(batch)
            size += int(batch.memory_usage(deep=True).sum())
            if size > HOLD_BYTES:
                if directory is None:
                    directory = Path(spill.enter_context(tempfile.TemporaryDirectory(prefix="alpr-watch-spill-")))
                while held:
                    part = _in_search_order(pa.Table.from_pandas(held.pop(0), preserve_index=False))
                    parts.append(directory / f"{len(parts):06d}.arrow")
                    feather.write_feather(part, parts[-1], compression=SPILL_COMPRESSION, chunksize=SPILL_SLICE_ROWS)
                    times.append(_ns(part))
        progress.reset(total=progress.n)
        progress.set_description_str(phase)
        if head and goes_back_in_time(pd.Series(np.concatenate(head).view("datetime64[ns]"))):
            log.info("%s lists its newest searches first: read whole, then fed to the detector oldest first", source)
        elif not in_order:
            log.info("%s does not list its searches in time order: read whole, then fed to the detector sorted by time",
                     source)
        if parts:
            yield from prefetched(_merged(parts, times, chunk_rows))
        elif held:
            # in Arrow, whose take copies a batch's strings two to three times as fast as pandas'
            table = pa.concat_tables([pa.Table.from_pandas(frame, preserve_index=False) for frame in held])
            held.clear()
            t = _ns(table)
            order = _search_order(t, table.column("search_id"))
            bounds = _bounds(t if order is None else t[order], chunk_rows)
            for start, end in zip(bounds, bounds[1:]):
                yield (table.slice(start, end - start) if order is None else table.take(order[start:end])).to_pandas()
        elif empty is not None:
            yield empty


def _ns(table: pa.Table) -> np.ndarray:
    return table.column("ts").to_numpy().view(np.int64)


def _search_order(t: np.ndarray, ids: pa.ChunkedArray) -> np.ndarray | None:
    """Positions by time ``t``, searches of one instant by search id (stable); None where they are so already."""
    if np.all(t[1:] > t[:-1]):
        return None
    keys = pa.table({"t": t, "id": ids})
    order = pc.sort_indices(keys, sort_keys=[("t", "ascending"), ("id", "ascending")]).to_numpy()
    return None if np.all(order[1:] > order[:-1]) else order


def _frame_in_search_order(frame: pd.DataFrame) -> pd.DataFrame:
    order = _search_order(ts_ns(frame["ts"]), pa.chunked_array([pa.array(frame["search_id"].array)]))
    return (frame if order is None else frame.take(order)).reset_index(drop=True)


def _in_search_order(table: pa.Table) -> pa.Table:
    order = _search_order(_ns(table), table.column("search_id"))
    return table if order is None else table.take(order)


def _bounds(ordered: np.ndarray, chunk_rows: int) -> list[int]:
    """Where the batches of searches at the sorted times ``ordered`` start, and the end:
    every ``chunk_rows``, moved past the searches of the instant a start would split, so
    that a spilled batch's merge can put each instant's searches in order by itself."""
    bounds = [0]
    while bounds[-1] < len(ordered):
        end = min(bounds[-1] + chunk_rows, len(ordered))
        if end < len(ordered) and ordered[end] == ordered[end - 1]:
            end = int(np.searchsorted(ordered, ordered[end - 1], side="right"))
        bounds.append(end)
    return bounds


def _merged(parts: list[Path], times: list[np.ndarray], chunk_rows: int) -> Generator[pd.DataFrame, None, None]:
    """The spilled ``parts`` (each in search order, ``times`` theirs) merged into search
    order, in the batches ``_bounds`` cuts; each part is deleted once read.

    A stable sort of all the times, as the parts would list them one after the other,
    says which rows of which part each batch takes: of every part the next so many, as
    each part is in order itself. Each batch holds whole instants, so their searches
    are put in search-id order there.
    """
    starts = np.cumsum([0] + [len(t) for t in times])
    listed_times = np.concatenate(times)
    order = np.argsort(listed_times, kind="stable")
    bounds = _bounds(listed_times[order], chunk_rows)
    readers = [_PartReader(p) for p in parts]
    for start, end in zip(bounds, bounds[1:]):
        chunk = order[start:end]
        listed = np.sort(chunk)  # the batch's rows as the parts list them
        counts = np.bincount(np.searchsorted(starts, listed, side="right") - 1, minlength=len(parts))
        table = pa.concat_tables([reader.take(int(n)) for reader, n in zip(readers, counts) if n])
        yield _in_search_order(table.take(np.searchsorted(listed, chunk))).to_pandas()


class _PartReader:
    """A spilled part's rows in order, a slice of ``SPILL_SLICE_ROWS`` in memory at a time."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._source: pa.OSFile | None = None
        self._file: pa.ipc.RecordBatchFileReader | None = None
        self._next = 0
        self._rows: list[pa.RecordBatch] = []
        self._held = 0

    def take(self, n: int) -> pa.Table:
        """The part's next ``n`` rows; the file is deleted once its last slice is read."""
        if self._file is None:
            self._source = pa.OSFile(str(self._path))
            self._file = pa.ipc.open_file(self._source)
        while self._held < n:
            self._rows.append(self._file.get_batch(self._next))
            self._held += self._rows[-1].num_rows
            self._next += 1
            if self._next == self._file.num_record_batches:
                self._source.close()
                self._path.unlink()
        table = pa.Table.from_batches(self._rows)
        rest = table.slice(n)
        self._rows, self._held = rest.to_batches(), rest.num_rows
        return table.slice(0, n)
