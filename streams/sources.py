"""Choosing the reader for a searches source: canonical file or a vendor export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from detector.schema import REQUIRED
from detector.validate import RejectSink
from streams.files import find_searches_file, read_searches


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
                  chunk_rows: int | None = None) -> Iterator[pd.DataFrame]:
    """Canonical batches from ``path``, sniffing the format from the header unless ``fmt`` forces it."""
    p = find_searches_file(path)
    kwargs = {"chunk_rows": chunk_rows} if chunk_rows else {}
    if fmt == "canonical" or (fmt is None and is_canonical(p)):
        return read_searches(p, rejects, **kwargs)
    from streams.vendor import read_export

    return read_export(p, rejects, format=fmt, agency=agency, **kwargs)
