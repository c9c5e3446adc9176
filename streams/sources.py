"""Choosing the reader for a searches source: canonical file or a vendor export."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from detector.validate import RejectSink
from streams.files import find_searches_file, read_searches


def open_searches(path: str | Path, rejects: RejectSink, fmt: str | None = None, agency: str | None = None,
                  chunk_rows: int | None = None) -> Iterator[pd.DataFrame]:
    """Canonical batches from ``path``, sniffing the format from the header unless ``fmt`` forces it."""
    from streams.vendor import detect_format, read_export

    p = find_searches_file(path)
    kwargs = {"chunk_rows": chunk_rows} if chunk_rows else {}
    fmt = fmt or detect_format(p)
    if fmt == "canonical":
        return read_searches(p, rejects, **kwargs)
    return read_export(p, rejects, format=fmt, agency=agency, **kwargs)
