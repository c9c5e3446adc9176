"""Search ids for vendor rows: repeated ids, and rows without one.

The spec reads a repeated ``search_id`` as the same search delivered twice, and the
downstream dedup drops the repeat. Flock exports repeat rows verbatim (Rohnert Park's
network audit has 3,023 UUIDs printed up to 5 times), which fits; but an id repeated
with *different* content would lose a row, so such a row keeps its id with a suffix
``#2``, ``#3`` in order of first appearance. Exports without an ``ID`` column get an
id hashed from the row's content, so a re-read gives the same ids and identical rows
still collapse.

Everything is hashed over the Arrow byte buffers, compiled: a 17-million-row network
audit cannot afford a Python call per row, nor a dict of 17 million strings. Seen ids
are kept as sorted 64-bit hashes (16 bytes an id); two different ids colliding has a
chance of about n²/2⁶⁵ (10⁻⁵ at 17 million) and would only add a needless suffix.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from detector.redaction import is_redacted
from detector.texthash import GOLDEN, M1, mix64, text_hash
from streams.vendor.text import byte_lengths

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
PREFIX = b"row-"


def combine(parts: list[np.ndarray]) -> np.ndarray:
    """One 64-bit hash per row from per-column 64-bit values (order matters).

    A cheap xor-multiply-shift step per column and one avalanche at the end, since
    this runs over every row of every chunk.
    """
    h = np.full(len(parts[0]) if parts else 0, GOLDEN, dtype=np.uint64)
    for part in parts:
        h = (h ^ part.view(np.uint64)) * M1
        h ^= h >> np.uint64(32)
    return mix64(h)


def synthetic_ids(fingerprint: np.ndarray) -> pa.Array:
    """``row-`` and 16 hex digits of each row's content hash, built without a Python loop."""
    n = len(fingerprint)
    width = len(PREFIX) + 16
    octets = fingerprint.astype(">u8").view(np.uint8).reshape(n, 8)
    text = np.empty((n, width), dtype=np.uint8)
    text[:, : len(PREFIX)] = np.frombuffer(PREFIX, dtype=np.uint8)
    text[:, len(PREFIX)::2] = _HEX[octets >> 4]
    text[:, len(PREFIX) + 1::2] = _HEX[octets & 15]
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text)])


class _SeenIds:
    """Hashes of the ids seen so far, each with the content hash of its first row.

    Nearly every id is new, so a blocked Bloom filter (16 bits an id, one 64-bit word
    per lookup, about 1% false positives) turns most lookups away; only its hits
    are searched in the sorted runs, which merge pairwise as they grow. Callers pass
    sorted keys, so both the filter and the runs are walked in order. Runs stop
    merging at a million ids: with the filter in front, a few dozen runs cost less
    to search than rewriting millions of ids on every merge.
    """

    BITS_PER_KEY = 16
    MERGE_UP_TO = 1 << 20

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        self._words = np.zeros(1 << 10, dtype=np.uint64)
        self._count = 0

    def _bits(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shift = np.uint64(64 - (len(self._words).bit_length() - 1))
        one = np.uint64(1)
        bits = (one << (keys & np.uint64(63))) | (one << ((keys >> np.uint64(6)) & np.uint64(63)))
        return keys >> shift, bits

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First-row content hash and a seen-before mask for sorted, distinct ``keys``."""
        first = np.zeros(len(keys), dtype=np.uint64)
        known = np.zeros(len(keys), dtype=bool)
        word, bits = self._bits(keys)
        maybe = np.flatnonzero((self._words[word] & bits) == bits)
        for run_keys, run_first in self._runs:
            pos = np.minimum(np.searchsorted(run_keys, keys[maybe]), len(run_keys) - 1)
            hit = run_keys[pos] == keys[maybe]
            first[maybe[hit]] = run_first[pos[hit]]
            known[maybe[hit]] = True
        return first, known

    def add(self, keys: np.ndarray, first: np.ndarray) -> None:
        """Remember sorted, distinct, unseen ``keys``."""
        if not len(keys):
            return
        self._runs.append((keys, first))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= min(2 * len(self._runs[-1][0]), self.MERGE_UP_TO):
            (k2, f2), (k1, f1) = self._runs.pop(), self._runs.pop()
            merged, values = np.concatenate([k1, k2]), np.concatenate([f1, f2])
            order = np.argsort(merged, kind="stable")  # timsort: a linear merge of two sorted runs
            self._runs.append((merged[order], values[order]))
        self._count += len(keys)
        if self._count * self.BITS_PER_KEY > len(self._words) * 64:
            self._words = np.zeros(len(self._words) * 4, dtype=np.uint64)
            for run_keys, _ in self._runs:
                self._mark(run_keys)
        else:
            self._mark(keys)

    def _mark(self, keys: np.ndarray) -> None:
        word, bits = self._bits(keys)
        starts = np.flatnonzero(np.r_[True, word[1:] != word[:-1]])
        self._words[word[starts]] |= np.bitwise_or.reduceat(bits, starts)


class SearchIds:
    """Assigns the final ``search_id`` of each row of one export, chunk after chunk."""

    def __init__(self) -> None:
        self._seen = _SeenIds()
        self._variants: dict[int, list[int]] = {}

    def assign(self, ids: pa.Array | None, fingerprint: np.ndarray) -> pa.Array:
        """Final ids for one chunk: the export's id, ``id#k`` for a changed repeat, or a synthetic id."""
        if ids is None:
            return synthetic_ids(fingerprint)
        missing = (byte_lengths(ids) == 0) | is_redacted(ids)
        out = pc.if_else(pa.array(missing), synthetic_ids(fingerprint), ids) if missing.any() else ids
        rows = np.flatnonzero(~missing)
        if not len(rows):
            return out
        keys = text_hash(ids if len(rows) == len(ids) else ids.take(pa.array(rows)))
        content = fingerprint[rows]
        order = np.argsort(keys)
        ordered = keys[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        first_row = np.minimum.reduceat(order, starts)
        distinct = ordered[starts]
        first, known = self._seen.lookup(distinct)
        first = np.where(known, first, content[first_row])
        self._seen.add(distinct[~known], first[~known])
        reference = np.empty(len(rows), dtype=np.uint64)
        reference[order] = np.repeat(first, np.diff(np.r_[starts, len(order)]))
        changed = np.flatnonzero(content != reference)
        if not len(changed):
            return out
        texts = out.to_pylist()
        for j in changed:
            variants = self._variants.setdefault(int(keys[j]), [int(reference[j])])
            if int(content[j]) not in variants:
                variants.append(int(content[j]))
            texts[rows[j]] += f"#{variants.index(int(content[j])) + 1}"
        return pa.array(texts, pa.string())
