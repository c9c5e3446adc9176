"""Vendor exports (Flock portal CSV, Flock Organization/Network Audit CSV or XLSX) as canonical batches.

Adapters only rename and convert vendor columns; ``detector.validate.canonicalize``
still validates every batch, so a bad value reads the same whatever its source.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from detector.texthash import text_hash
from detector.validate import InputError, RejectSink, canonicalize
from streams.files import CHUNK_ROWS, prefetched, read_searches
from streams.vendor import csvio, xlsxio
from streams.vendor.flock_audit import FlockAuditAdapter
from streams.vendor.flocktime import EXAMPLE, parse_times
from streams.vendor.ids import SearchIds
from streams.vendor.portal import PortalAdapter
from streams.vendor.sniff import FORMATS, classify, csv_header, detect_format, unknown_header

__all__ = ["FORMATS", "detect_format", "read_export"]

log = logging.getLogger(__name__)


class Adapter(Protocol):
    def convert(self, table: pa.Table, lines: np.ndarray, source: str, rejects: RejectSink) -> tuple[pd.DataFrame, np.ndarray]: ...


ADAPTERS = {"flock_portal": PortalAdapter, "flock_audit": FlockAuditAdapter}


def read_export(
    path: str | Path,
    rejects: RejectSink,
    *,
    format: str | None = None,
    agency: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """Canonical batches (the output of ``canonicalize``) from a vendor export or canonical file.

    ``format`` forces a reader instead of sniffing the header. ``agency`` names the
    export's owner: required for portal files and for audit exports without an
    ``Org Name`` column, and used for rows whose ``Org Name`` is blank.
    """
    p = Path(path)
    fmt = format or detect_format(p)
    if fmt == "canonical":
        yield from read_searches(p, rejects, chunk_rows)
        return
    if fmt not in ADAPTERS:
        raise InputError(f"{p}: unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not p.is_file():
        raise InputError(f"{p}: not a file (a {fmt} export is one CSV or XLSX file)")
    if xlsxio.is_workbook(p):
        yield from _read_workbook(p, fmt, rejects, agency, chunk_rows)
        return
    header = csv_header(p)
    adapter: Adapter = ADAPTERS[fmt](header.names, str(p), agency)
    # parsing the next chunk (Arrow's threads, without the GIL) while this one is adapted
    chunks = prefetched(csvio.read_chunks(p, header.names, header.lines, chunk_rows))
    yield from prefetched(_adapted(adapter, chunks, str(p), rejects))


def _adapted(adapter: Adapter, chunks: Iterator[tuple[pa.Table, np.ndarray]], source: str,
             rejects: RejectSink) -> Iterator[pd.DataFrame]:
    """Each chunk adapted and validated; the compiled kernels are loaded first, while Arrow parses
    the first chunk (numba's first use in a process takes a few tenths of a second)."""
    parse_times(pa.array([EXAMPLE]))
    text_hash(pa.array([EXAMPLE]))
    for table, lines in chunks:
        yield _batch(adapter, table, lines, source, rejects)


def _read_workbook(p: Path, fmt: str, rejects: RejectSink, agency: str | None, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Every sheet of the workbook in the export's format; one id memory for them all."""
    ids = SearchIds()
    read_any = False
    first: list[str] | None = None
    for sheet in xlsxio.sheets(p):
        first = first if first is not None else sheet.header
        if classify(sheet.header) != fmt:
            log.warning("%s: sheet %r skipped: its header %r is not a %s export", p, sheet.name, ",".join(sheet.header), fmt)
            continue
        source = f"{p}[{sheet.name}]"
        adapter: Adapter = ADAPTERS[fmt](sheet.header, source, agency, ids)
        read_any = True
        for table, lines in xlsxio.read_chunks(sheet, chunk_rows):
            yield _batch(adapter, table, lines, source, rejects)
    if not read_any:
        raise unknown_header(p, first or [])


def _batch(adapter: Adapter, table: pa.Table, lines: np.ndarray, source: str, rejects: RejectSink) -> pd.DataFrame:
    raw, lines = adapter.convert(table, lines, source, rejects)
    return canonicalize(raw, source, lines, rejects)
