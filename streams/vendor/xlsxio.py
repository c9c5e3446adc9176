"""Vendor XLSX exports read sheet by sheet, a bounded number of rows at a time.

openpyxl's read-only mode streams the sheet XML, so a million-row workbook never sits
in memory. Cells come back typed (counts as numbers, and dates as ``datetime`` where
someone re-saved the file in Excel); they are turned back into the text a CSV export
would hold, so one adapter serves both. Line numbers are the sheet's row numbers.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from detector.validate import InputError

ZIP_MAGIC = b"PK\x03\x04"


def is_workbook(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == ZIP_MAGIC


def cell_text(value: object) -> str:
    """The text a CSV export would show for a typed cell.

    >>> cell_text(12.0), cell_text(None), cell_text(dt.datetime(2024, 1, 2, 3, 4, 5))
    ('12', '', '2024-01-02T03:04:05')
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


@dataclass
class Sheet:
    """One worksheet: its header row and an iterator over the rows below it."""

    name: str
    header: list[str]
    header_line: int
    rows: Iterator[tuple[int, tuple[object, ...]]]


def sheets(path: Path) -> Iterator[Sheet]:
    """Every worksheet that has a non-empty row, its first such row taken as the header."""
    import openpyxl  # here, not above: it takes about 0.15 s to import, and only workbooks need it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable XLSX workbook ({exc})") from exc
    try:
        for sheet in book.worksheets:
            sheet.reset_dimensions()  # some exporters write a wrong size, which would cut rows off
            rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            for number, cells in rows:
                if any(c is not None and str(c).strip() for c in cells):
                    yield Sheet(sheet.title, [cell_text(c).strip() for c in cells], number, rows)
                    break
    finally:
        book.close()


def read_chunks(sheet: Sheet, chunk_rows: int) -> Iterator[tuple[pa.Table, np.ndarray]]:
    """Tables of up to ``chunk_rows`` rows of text named by the header, and their row numbers.

    Rows with no value at all are skipped; cells beyond the header are ignored.
    """
    width = len(sheet.header)
    columns: list[list[str]] = [[] for _ in range(width)]
    lines: list[int] = []
    for number, cells in sheet.rows:
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        for i in range(width):
            columns[i].append(cell_text(cells[i]) if i < len(cells) else "")
        lines.append(number)
        if len(lines) >= chunk_rows:
            yield _table(sheet.header, columns), np.asarray(lines, dtype=np.int64)
            columns, lines = [[] for _ in range(width)], []
    if lines:
        yield _table(sheet.header, columns), np.asarray(lines, dtype=np.int64)


def _table(header: list[str], columns: list[list[str]]) -> pa.Table:
    return pa.Table.from_arrays([pa.array(c, pa.string()) for c in columns], names=header)
