"""What every vendor adapter does to a chunk besides its own column mapping.

Vendor time formats are parsed by the adapters (``canonicalize`` only knows ISO), so
a cell that is not a time is reported here, with the vendor's column name and the
vendor's row, and the row is dropped before ``canonicalize`` sees it. Everything
else about validity stays with ``canonicalize``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from detector.validate import InputError, Reject, RejectSink


def normalize(name: str) -> str:
    """A header name as matched: case and spacing ignored (`` Org  Name`` = ``org name``)."""
    return " ".join(name.split()).lower()


def column_roles(columns: list[str], vocabulary: dict[str, str], source: str) -> dict[str, str]:
    """Role -> header name for the columns the adapter knows; a role claimed twice is an error."""
    roles: dict[str, str] = {}
    for name in columns:
        role = vocabulary.get(normalize(name))
        if role in roles:
            raise InputError(f"{source}: line 1: columns {roles[role]!r} and {name!r} both hold {role}; keep one")
        if role:
            roles[role] = name
    return roles


@dataclass(frozen=True)
class BadCells:
    """Rows whose ``column`` could not be read as canonical ``field``."""

    mask: np.ndarray
    field: str
    column: str
    expected: str


def drop_bad_rows(table: pa.Table, lines: np.ndarray, bad: list[BadCells], source: str, rejects: RejectSink) -> np.ndarray:
    """Report each bad row once (its first bad cell) and return the mask of rows to keep."""
    taken = np.zeros(table.num_rows, dtype=bool)
    found: list[Reject] = []
    for cells in bad:
        rows = np.flatnonzero(cells.mask & ~taken)
        taken[rows] = True
        values = table.column(cells.column).take(pa.array(rows)).to_pylist() if len(rows) else []
        records = table.take(pa.array(rows)).to_pylist() if len(rows) else []
        for row, value, record in zip(rows, values, records):
            reason = f"{cells.field}: {cells.column} is not {cells.expected}, got {value!r}"
            found.append(Reject(source, int(lines[row]), cells.field, reason, json.dumps(record, ensure_ascii=False)))
    if found:
        rejects.add(sorted(found, key=lambda r: r.line))
    return ~taken


def utc(values: np.ndarray) -> pa.Array:
    """``datetime64[ns]`` values (NaT = missing) as a UTC timestamp column."""
    return pa.array(values, type=pa.timestamp("ns", tz="UTC"))


def to_frame(columns: dict[str, pa.Array]) -> pd.DataFrame:
    """The raw canonical frame ``canonicalize`` takes, in one Arrow-to-pandas conversion."""
    return pa.table(columns).to_pandas()
