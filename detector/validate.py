"""Turning raw records into the canonical batch form, row by row accountable.

Every source (canonical files, vendor exports, Kafka messages) ends here, so a bad
value gets the same message wherever it came from: the source, the line (or message
offset) and the field. Whole-file problems raise ``InputError``; single bad rows are
handed to a ``RejectSink`` with the reason and the batch goes on without them.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
from numba import njit

from detector.redaction import WITHHELD, is_redacted
from detector.schema import BY_NAME, FIELDS, INTEGER_FIELDS, REQUIRED, SEARCH_TYPES, normalize_plates
from detector.texthash import text_hash


class InputError(ValueError):
    """A source that cannot be read at all; the message names the file, line and field."""


@dataclass
class Reject:
    source: str
    line: int
    field: str
    reason: str
    raw: str


class RejectSink(Protocol):
    def add(self, rejects: list[Reject]) -> None: ...


@dataclass
class RejectCounter:
    """Keeps rejects in memory; the default when no rejects file was asked for."""

    items: list[Reject] = field(default_factory=list)

    def add(self, rejects: list[Reject]) -> None:
        self.items.extend(rejects)

    def __len__(self) -> int:
        return len(self.items)


class RejectFile:
    """Appends rejects to a CSV file (`source,line,field,reason,raw`) as they happen."""

    COLUMNS = ("source", "line", "field", "reason", "raw")

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.count = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = self.path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._fh)
        self._writer.writerow(self.COLUMNS)

    def add(self, rejects: list[Reject]) -> None:
        for r in rejects:
            self._writer.writerow((r.source, r.line, r.field, r.reason, r.raw))
        self.count += len(rejects)
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> RejectFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_columns(columns: list[str], source: str) -> None:
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise InputError(
            f"{source}: line 1: missing required column(s) {', '.join(repr(m) for m in missing)}; "
            f"the header has {', '.join(columns) or 'nothing'}"
        )


_TEXT = pd.Series([], dtype=str).dtype  # the strings ``astype(str)`` makes


def _as_text(col: pd.Series) -> pd.Series:
    if col.dtype == _TEXT and not col.hasnans:
        return col.str.strip()  # what the line below gives, without its two copies (a fixed cost per column)
    if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
        return col.fillna("").astype(str).str.strip()
    # typed numbers from Parquet/JSON: render integers without a trailing '.0'
    out = col.astype(object).where(col.notna(), "")
    return out.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)).astype(str)


def parse_ts(col: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Timestamps to UTC; returns the parsed column and a mask of present-but-invalid values."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return col.dt.tz_convert("UTC").astype("datetime64[ns, UTC]"), np.zeros(len(col), bool)
    if pd.api.types.is_datetime64_dtype(col.dtype):
        return col.dt.tz_localize("UTC").astype("datetime64[ns, UTC]"), np.zeros(len(col), bool)
    text = _as_text(col)
    present = (text != "").to_numpy()
    if not present.any():  # an optional time nobody filled in: what to_datetime makes of it, without asking it
        return pd.Series(pd.NaT, index=col.index, dtype="datetime64[ns, UTC]"), present
    parsed = pd.to_datetime(text.where(present, None), utc=True, errors="coerce", format="ISO8601")
    parsed = parsed.astype("datetime64[ns, UTC]")
    return parsed, present & parsed.isna().to_numpy()


def _parse_num(col: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return col.astype(np.float64), np.zeros(len(col), bool)
    text = _as_text(col)
    present = (text != "").to_numpy()
    parsed = pd.to_numeric(text.where(present, None), errors="coerce").astype(np.float64)
    return parsed, present & parsed.isna().to_numpy()


def _raw_row(raw: pd.DataFrame, i: int) -> str:
    return json.dumps({k: (None if pd.isna(v) else str(v)) for k, v in raw.iloc[i].items()}, ensure_ascii=False)


def canonicalize(
    raw: pd.DataFrame,
    source: str,
    lines: np.ndarray,
    rejects: RejectSink,
) -> pd.DataFrame:
    """Validate and convert ``raw`` (canonical column names, any subset) into a batch.

    ``lines`` holds each row's line number (or message offset) for error messages.
    Rows with a bad value go to ``rejects``; the returned batch holds the rest.

    >>> sink = RejectCounter()
    >>> raw = pd.DataFrame({"search_id": ["a", "b"], "ts": ["2025-01-01T10:00:00", "soon"],
    ...                     "user_id": ["u1", "u2"], "agency": ["PD", "PD"], "plate": ["ab-1", ""]})
    >>> batch = canonicalize(raw, "x.csv", np.array([2, 3]), sink)
    >>> batch["plate"].tolist(), [(r.line, r.field) for r in sink.items]
    (['AB1'], [(3, 'ts')])
    """
    check_columns(list(raw.columns), source)
    n = len(raw)
    bad = np.zeros(n, dtype=bool)
    problems: list[tuple[np.ndarray, str, str]] = []
    out: dict[str, pd.Series] = {}

    def flag(mask: np.ndarray, name: str, reason: str) -> None:
        mask = mask & ~bad
        if mask.any():
            problems.append((mask.copy(), name, reason))
            bad[mask] = True

    blank: pd.Series | None = None  # one empty-text column serves every absent text field (a Python list each cost more)
    for f in FIELDS:
        col = raw[f.name] if f.name in raw.columns else None
        if f.kind == "str":
            if col is None:
                blank = pd.Series(np.full(n, "", dtype=object), index=raw.index, dtype=str) if blank is None else blank
            text = blank if col is None else _as_text(col)
            if f.required and f.name != "user_id":
                flag((text == "").to_numpy(), f.name, "required value is empty")
            out[f.name] = text
        elif f.kind == "ts":
            parsed, invalid = parse_ts(col) if col is not None else (
                pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]"), np.zeros(n, bool))
            flag(invalid, f.name, "expected an ISO-8601 timestamp")
            if f.required:
                flag(parsed.isna().to_numpy(), f.name, "required value is empty")
            out[f.name] = parsed
        else:
            parsed, invalid = _parse_num(col) if col is not None else (
                pd.Series(np.nan, index=raw.index, dtype=np.float64), np.zeros(n, bool))
            flag(invalid, f.name, "expected a number")
            out[f.name] = parsed

    values = {k: v.to_numpy() for k, v in out.items() if BY_NAME[k].kind == "num"}
    with np.errstate(invalid="ignore"):
        for name in INTEGER_FIELDS:
            v = values[name]
            flag(~np.isnan(v) & ((v < 0) | (v != np.floor(v))), name, "expected a whole number >= 0")
        flag(np.abs(values["lat"]) > 90, "lat", "expected degrees between -90 and 90")
        flag(np.abs(values["lon"]) > 180, "lon", "expected degrees between -180 and 180")
        flag(values["radius_m"] < 0, "radius_m", "expected metres >= 0")

    st = out["search_type"].str.lower()
    flag(~st.isin(("",) + SEARCH_TYPES).to_numpy(), "search_type", f"expected one of {', '.join(SEARCH_TYPES)}")
    out["search_type"] = st
    # a withheld officer is none, a withheld plate ``WITHHELD`` (``detector.redaction``)
    for name, marker in (("user_id", ""), ("plate", WITHHELD)):
        withheld = is_redacted(pa.array(out[name].array, type=pa.string(), from_pandas=True))
        if withheld.any():
            out[name] = out[name].where(~withheld, marker)
    out["plate"] = normalize_plates(out["plate"])
    for name in ("agency_state", "plate_state"):
        out[name] = out[name].str.upper()

    batch = pd.DataFrame({name: col.array for name, col in out.items()}, copy=False)  # rows in raw's order, by position
    if problems:
        collected = []
        for mask, name, reason in problems:
            for i in np.flatnonzero(mask):
                value = raw[name].iloc[i] if name in raw.columns else ""
                collected.append(Reject(source, int(lines[i]), name, f"{name}: {reason}, got {str(value)!r}", _raw_row(raw, i)))
        collected.sort(key=lambda r: r.line)
        rejects.add(collected)
        batch = batch.loc[~bad]
    return batch.reset_index(drop=True)


@njit(cache=True, nogil=True)
def _first_sightings(hashes, table, count):  # pragma: no cover - compiled
    """Each id's hash looked up and added in an open-addressing table (0 = empty slot).

    ``text_hash`` ends in a finaliser, so the hash's low bits pick the slot as they are.
    """
    keep = np.zeros(hashes.shape[0], dtype=np.bool_)
    mask = np.uint64(table.shape[0] - 1)
    for i in range(hashes.shape[0]):
        h = hashes[i]
        if h == np.uint64(0):
            h = np.uint64(1)
        slot = h & mask
        while table[slot] != np.uint64(0) and table[slot] != h:
            slot = (slot + np.uint64(1)) & mask
        if table[slot] == np.uint64(0):
            table[slot] = h
            keep[i] = True
            count += 1
    return keep, count


@njit(cache=True, nogil=True)
def _rehash(old, table):  # pragma: no cover - compiled
    mask = np.uint64(table.shape[0] - 1)
    for h in old:
        if h != np.uint64(0):
            slot = h & mask
            while table[slot] != np.uint64(0):
                slot = (slot + np.uint64(1)) & mask
            table[slot] = h


def _arrow_text(ids: pd.Series) -> pa.Array:
    """The ids as one Arrow string array (pandas' Arrow-backed strings arrive in chunks)."""
    arr = pa.array(ids, type=pa.large_string(), from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


class Deduplicator:
    """Drops searches whose ``search_id`` was seen before (spec: the same search delivered twice).

    Remembers 64-bit hashes of the ids in a compiled open-addressing table kept at most
    half full (16 to 32 bytes an id), hashing the ids straight from Arrow's text buffers
    (``detector.texthash``, eight bytes at a time):
    a log of tens of millions of searches dedups in a few seconds and a few hundred MB.
    Two different ids colliding is about a one-in-a-hundred-thousand event per 17
    million searches.

    >>> d = Deduplicator()
    >>> d(pd.DataFrame({"search_id": ["a", "b", "a"]}))["search_id"].tolist(), d.dropped
    (['a', 'b'], 1)
    """

    def __init__(self) -> None:
        self.table = np.zeros(1 << 16, dtype=np.uint64)
        self.count = 0
        self.dropped = 0

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        hashes = text_hash(_arrow_text(batch["search_id"]))
        needed = 2 * (self.count + len(batch))
        if needed > len(self.table):
            table = np.zeros(1 << max(needed - 1, 1).bit_length(), dtype=np.uint64)
            _rehash(self.table, table)
            self.table = table
        first, self.count = _first_sightings(hashes, self.table, self.count)
        self.dropped += int(len(batch) - first.sum())
        return batch.loc[first].reset_index(drop=True) if not first.all() else batch
