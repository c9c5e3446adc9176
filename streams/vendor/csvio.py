"""Vendor CSV exports read as Arrow tables of text, a bounded number of rows at a time.

Arrow's streaming CSV reader parses about twice as fast as ``pandas.read_csv`` on
Flock's multi-line cells (1.4 s against 3.4 s per million audit rows here), and the
replay budget is 300,000 rows a second end to end. Memory stays bounded: Arrow reads
blocks of ``BLOCK_BYTES``, and the reader keeps at most two chunks ahead of the one being
scored (``streams.files.prefetched``).

Line numbers are physical lines: a record's number is the line its first cell
starts on, counting the line breaks inside quoted cells (Flock's Time Frame spans
two lines). Blank lines between records are skipped by the parser and not counted,
so after one the numbers fall short by one per blank line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from detector.validate import InputError

BLOCK_BYTES = 8 << 20


def first_bad_utf8_line(path: Path) -> int:
    """Line number of the first line that is not UTF-8, or 0."""
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def _locate_break(path: Path, width: int) -> str | None:
    """Where and how the CSV structure first breaks, re-read with Python's strict parser.

    Only runs after Arrow has refused the file, so its slowness does not matter.
    """
    with path.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        reader = csv.reader(fh, strict=True)
        start = 1
        try:
            for row in reader:
                if row and len(row) != width:
                    hint = "; a quoted cell opened here may be unclosed" if reader.line_num > start else ""
                    return f"line {start}: malformed CSV: expected {width} cells, found {len(row)}{hint}"
                start = reader.line_num + 1
        except csv.Error as exc:
            return f"line {start}: malformed CSV: broken quoted cell ({exc})"
    return None


def _malformed(path: Path, width: int, exc: pa.ArrowInvalid) -> InputError:
    if "UTF8" in str(exc):
        return InputError(f"{path}: line {first_bad_utf8_line(path)}: not UTF-8 text")
    where = _locate_break(path, width) or f"line unknown: malformed CSV ({str(exc).splitlines()[0]})"
    return InputError(f"{path}: {where}")


def read_chunks(path: Path, columns: list[str], header_lines: int, chunk_rows: int) -> Iterator[tuple[pa.Table, np.ndarray]]:
    """Tables of ``chunk_rows`` rows (all text, named ``columns``; the first may be shorter) and each row's line number.

    ``columns`` are the header's names as the caller wants them (e.g. stripped of
    spaces) in file order; ``header_lines`` is how many lines the header takes.
    """
    # Positional names: a header may repeat a name or carry spaces; the caller renames.
    read = pacsv.ReadOptions(block_size=BLOCK_BYTES, autogenerate_column_names=True, skip_rows_after_names=1)
    parse = pacsv.ParseOptions(newlines_in_values=True)
    convert = pacsv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(len(columns))})
    line = header_lines + 1
    pending: list[pa.RecordBatch] = []
    rows = 0
    want = 1  # the first block alone: its adapting (and the kernels' loading) overlaps the parsing of the next
    try:
        with pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert) as reader:
            for batch in reader:
                pending.append(batch)
                rows += batch.num_rows
                while rows >= want:
                    want = chunk_rows
                    table = pa.Table.from_batches(pending)
                    head, tail = table.slice(0, chunk_rows), table.slice(chunk_rows)
                    pending, rows = tail.to_batches(), tail.num_rows
                    lines, line = _line_numbers(head, line)
                    yield head.rename_columns(columns), lines
    except pa.ArrowInvalid as exc:
        raise _malformed(path, len(columns), exc) from exc
    if rows:
        table = pa.Table.from_batches(pending)
        yield table.rename_columns(columns), _line_numbers(table, line)[0]


def _line_numbers(table: pa.Table, line: int) -> tuple[np.ndarray, int]:
    breaks = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        if any(_has_newline(chunk) for chunk in column.chunks):  # usually only Time Frame
            breaks += pc.count_substring(column, "\n").to_numpy(zero_copy_only=False)
    spans = breaks + 1
    starts = line + np.concatenate([[0], np.cumsum(spans)[:-1]])
    return starts, line + int(spans.sum())


def _has_newline(values: pa.Array) -> bool:
    """A byte scan of the column's text buffer: far cheaper than counting per cell."""
    _, offsets_buf, data_buf = values.buffers()
    if not len(values) or data_buf is None:
        return False
    offsets = np.frombuffer(offsets_buf, dtype=np.int32, count=len(values) + 1, offset=values.offset * 4)
    text = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0]:offsets[-1]]
    return bool((text == ord("\n")).any())
