"""A 64-bit hash of each text of an Arrow array, compiled over its byte buffers.

Vendor rows are fingerprinted by it (``streams.vendor.ids``) and a replay's dedup
remembers search ids by it (``detector.validate.Deduplicator``): tens of millions of
texts, which cannot afford a Python call each.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit


# splitmix64's constants: its increment (2^64 over the golden ratio) and its finaliser's multipliers
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True, nogil=True, inline="always")
def mix64(x):  # pragma: no cover - compiled
    """splitmix64's finaliser, of a value or an array: every input bit flips about half the output bits,
    so that similar keys land far apart."""
    x = (x ^ (x >> np.uint64(30))) * M1
    x = (x ^ (x >> np.uint64(27))) * M2
    return x ^ (x >> np.uint64(31))


def text_hash(values: pa.Array) -> np.ndarray:
    """A 64-bit hash of each cell's UTF-8 bytes, the same in every chunk and every run.

    Each cell is hashed eight bytes at a time (the last word zero-padded), seeded with
    its byte length, straight from the Arrow buffers by a compiled loop.

    >>> a, b = text_hash(pa.array(["abc", "", "abc", "abd"])), text_hash(pa.array(["abc"]))
    >>> bool(a[0] == a[2] == b[0]), bool(a[0] != a[3]), bool(a[1] != a[0])
    (True, True, True)
    """
    values = values.cast(pa.large_string()) if not pa.types.is_large_string(values.type) else values
    if values.null_count:
        values = values.fill_null("")
    _, offsets, data = values.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64, count=len(values) + 1, offset=values.offset * 8)
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
    return _hash_cells(offsets, data)


@njit(cache=True, nogil=True)
def _hash_cells(offsets, data):  # pragma: no cover - compiled
    out = np.empty(offsets.shape[0] - 1, dtype=np.uint64)
    for i in range(out.shape[0]):
        start, end = offsets[i], offsets[i + 1]
        h = np.uint64(end - start)
        for word_start in range(start, end, 8):
            word = np.uint64(0)
            for k in range(min(8, end - word_start)):
                word |= np.uint64(data[word_start + k]) << np.uint64(8 * k)
            h = mix64(h * GOLDEN + word)
        out[i] = mix64(h)
    return out
