"""Search messages (one JSON object each, spec section 1) to the raw frame ``canonicalize`` takes.

Decoding message by message (``json.loads``, then a frame from the dicts) costs about
as much as everything else stage 1 does together, so a batch is first parsed in one
go by Arrow's JSON reader. That is only done where it gives exactly what the JSON
Lines file reader (``streams.files``) gives: any message it might read differently
(a number where text belongs, a nested value, bytes that are not UTF-8, a message of
several lines, ...) sends the whole batch down the per-message path, which also names
each undecodable message so that it can go to the dead-letter topic.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from detector.schema import FIELDS, INTEGER_FIELDS, REQUIRED

# Text fields as text, whole-number fields as int64, the rest as float64: what the file
# reader ends up with for well-typed JSON; other JSON types make Arrow fail, and then
# the per-message path decides.
_SCHEMA = pa.schema([(f.name, pa.string() if f.kind != "num" else pa.int64() if f.name in INTEGER_FIELDS else pa.float64())
                     for f in FIELDS])
_PARSE = pa_json.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="ignore", newlines_in_values=False)
_EXACT = 2.0**53  # larger JSON integers in a float field: Arrow does not round them as Python does


def decode_searches(values: list[bytes | None]) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """The raw frame of the decodable messages (in order) and ``(index, reason)`` of the others."""
    frame = _columnar(values)
    if frame is not None:
        return frame, []
    return _per_message(values)


def _columnar(values: list[bytes | None]) -> pd.DataFrame | None:
    """All messages parsed by Arrow, or None where that might differ from ``json.loads``."""
    if not values or None in values:
        return None
    joined = b"\n".join(values)
    if joined.count(b"\n") != len(values) - 1 or b"\r" in joined:
        return None  # a message must be exactly one line of the joined text (Arrow skips blank ones)
    try:
        joined.decode("utf-8")  # Arrow would take malformed UTF-8 that json.loads refuses
        table = pa_json.read_json(io.BytesIO(joined), parse_options=_PARSE,
                                  read_options=pa_json.ReadOptions(use_threads=False, block_size=len(joined) + 1))
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if table.num_rows != len(values):  # two objects on one line, or a blank message
        return None
    columns = []
    for f in FIELDS:
        col = table.column(f.name)
        if f.kind != "num":
            col = pc.fill_null(col, "")  # a missing or null text is empty, as the file reader has it
        elif col.type == pa.float64() and (np.abs(col.to_numpy()) >= _EXACT).any():
            return None
        columns.append(col)
    return pa.table(columns, names=[f.name for f in FIELDS]).to_pandas()


def _per_message(values: list[bytes | None]) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    rows, bad = [], []
    for i, value in enumerate(values):
        try:
            obj = json.loads(value) if value is not None else None
            if not isinstance(obj, dict):
                raise ValueError("empty message" if obj is None else f"a JSON {type(obj).__name__}")
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            bad.append((i, f"not a JSON object: {exc}"))
            continue
        rows.append(obj)
    return raw_frame(rows), bad


def raw_frame(rows: list[dict]) -> pd.DataFrame:
    """Decoded messages as a raw frame, valued like the JSON Lines reader values them."""
    frame = pd.DataFrame.from_records(rows)
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = frame[name].map(
                lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else v if isinstance(v, str)
                else json.dumps(v) if isinstance(v, (dict, list)) else str(v))
    for name in REQUIRED:  # a key missing from every message is a bad row each, not a bad batch
        if name not in frame.columns:
            frame[name] = ""
    return frame
