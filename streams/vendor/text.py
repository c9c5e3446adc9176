"""Column-at-a-time helpers on Arrow text, shared by the vendor adapters.

A network audit runs to 17 million rows, but most of its columns repeat a few
thousand values (organisations, search types, ``***``, counts). ``Column`` factors
such a column into its distinct values once, so every test, mapping and hash runs
on those few values and is spread back with an array lookup; columns that do not
repeat (ids, free text in own-search logs) are worked on directly with Arrow's
vectorised kernels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.redaction import is_redacted

_SAMPLE = 4096


def contiguous(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One Arrow string array, nulls as empty text."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if not pa.types.is_string(values.type):
        values = values.cast(pa.string())
    return values.fill_null("") if values.null_count else values


def byte_lengths(values: pa.Array) -> np.ndarray:
    return pc.binary_length(values).to_numpy(zero_copy_only=False)


def fixed_width(values: pa.Array, width: int) -> np.ndarray:
    """The UTF-8 bytes of ``values`` (every cell exactly ``width`` bytes) as an (n, width) uint8 matrix.

    Reads the Arrow buffers directly, so fixed-layout cells (Flock times, UUIDs) can be
    picked apart with numpy instead of string parsing.
    """
    offsets_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    _, offsets_buf, data_buf = values.buffers()
    start = int(np.frombuffer(offsets_buf, dtype=offsets_type, count=values.offset + 1)[-1])
    data = np.frombuffer(data_buf, dtype=np.uint8, count=len(values) * width, offset=start)
    return data.reshape(len(values), width)


class Column:
    """A text column with surrounding whitespace removed (Marin's ' REDACTED'), factored when it repeats."""

    def __init__(self, values: pa.Array | pa.ChunkedArray) -> None:
        values = contiguous(values)
        sample = values.slice(0, _SAMPLE)
        if len(values) > _SAMPLE // 8 and len(pc.unique(sample)) * 4 < len(sample):
            encoded = pc.dictionary_encode(values)
            self.values = pc.utf8_trim_whitespace(encoded.dictionary)
            self.index: np.ndarray | None = encoded.indices.to_numpy()
        else:
            self.values = pc.utf8_trim_whitespace(values)
            self.index = None

    @classmethod
    def empty(cls, rows: int) -> Column:
        """A column of empty text, for a field the export does not have."""
        column = cls(pa.array([""]))
        column.index = np.zeros(rows, dtype=np.int32)
        return column

    def apply(self, func: Callable[[pa.Array], np.ndarray | pa.Array]) -> np.ndarray | pa.Array:
        """A vectorised ``func`` of the text, evaluated once per distinct value when factored."""
        result = func(self.values)
        if self.index is None:
            return result
        return result[self.index] if isinstance(result, np.ndarray) else result.take(pa.array(self.index))

    def map(self, func: Callable[[str], object], result_type: pa.DataType = pa.string()) -> pa.Array:
        """A Python ``func`` of each distinct value (for columns that repeat, like organisations)."""
        return self.apply(lambda values: _map_each(values, func, result_type))

    def text(self) -> pa.Array:
        """The trimmed text of every row."""
        return self.apply(lambda values: values)


def _map_each(values: pa.Array, func: Callable[[str], object], result_type: pa.DataType) -> pa.Array:
    encoded = pc.dictionary_encode(values)
    return pa.array([func(v) for v in encoded.dictionary.to_pylist()], type=result_type).take(encoded.indices)


def blank_where(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """``values`` with the masked cells emptied."""
    return pc.if_else(pa.array(mask), pa.scalar("", pa.string()), values) if mask.any() else values


def unmasked(values: pa.Array) -> pa.Array:
    """``values`` with redaction markers emptied."""
    return blank_where(values, is_redacted(values))


def to_counts(values: pa.Array) -> pa.Array:
    """Whole numbers as float64 where every cell is one, else the text for canonicalize to judge.

    Exports fill ``Total Devices Searched`` with the sentinel ``——`` where Flock has no
    count; any cell of dashes alone is read as missing.

    >>> to_counts(pa.array(["12", "——", ""])).to_pylist()
    [12.0, None, None]
    >>> to_counts(pa.array(["12", "x"])).to_pylist()
    ['12', 'x']
    """
    values = blank_where(values, pc.match_substring_regex(values, "^[-\u2010-\u2015]+$").to_numpy(zero_copy_only=False))
    digits = pc.match_substring_regex(values, r"^[0-9]{1,15}$").to_numpy(zero_copy_only=False)
    empty = byte_lengths(values) == 0
    if not (digits | empty).all():
        return values
    nulled = pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), values)
    return nulled.cast(pa.int64()).cast(pa.float64())
