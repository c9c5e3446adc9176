"""Choosing the reader for a searches source (canonical file or a vendor export), fed oldest first."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from detector.schema import REQUIRED
from detector.validate import RejectSink
from streams.files import CHUNK_ROWS, find_searches_file, listed_in_time_order, read_searches
from streams.order import oldest_first


def is_canonical(path: Path) -> bool:
    """Parquet and JSON Lines are canonical by contract; a CSV is when its header holds the required fields."""
    if path.suffix.lower() in (".parquet", ".jsonl", ".json", ".ndjson"):
        return True
    if path.suffix.lower() != ".csv":
        return False
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        header = {c.strip().strip('"') for c in fh.readline().split(",")}
    return set(REQUIRED) <= header


def open_searches(path: str | Path, rejects: RejectSink, fmt: str | None = None, agency: str | None = None,
                  chunk_rows: int | None = None, progress: tqdm | None = None) -> Generator[pd.DataFrame, None, None]:
    """Canonical batches from ``path``, oldest first, sniffing the format from the header unless ``fmt`` forces it.

    Oldest first whatever order the file lists them in (``streams.order.oldest_first``,
    which ``progress`` is for): the detector's features are built from what came before.
    A canonical file whose times a scan finds in order streams straight through; any other
    is read whole first.
    """
    p = find_searches_file(path)
    rows = chunk_rows or CHUNK_ROWS
    if fmt == "canonical" or (fmt is None and is_canonical(p)):
        return oldest_first(read_searches(p, rejects, rows), rows, str(p), progress, listed_in_time_order(p))
    from streams.vendor import read_export

    return oldest_first(read_export(p, rejects, format=fmt, agency=agency, chunk_rows=rows), rows, str(p), progress)
