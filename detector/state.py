"""Persistent per-entity state: string vocabularies and growable numeric tables.

State is what makes features causal and lets a stream resume where it stopped: every
table can be exported as plain numpy arrays (``to_arrays``) and rebuilt from them
(``from_arrays``), which is what checkpoints store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from numba import njit

from detector.texthash import mix64


@dataclass(frozen=True, eq=False)
class Keys:
    """A column of a batch factorized once: per-row codes into its distinct values.

    Logs repeat the same agencies, users and plates over and over, so every lookup,
    vocabulary encoding and derived column (a user's key, the person behind a plate)
    runs over the distinct values and reaches the rows by ``take``; the strings of a
    column are never converted row by row.
    """

    codes: np.ndarray  # int64 per row, indexing ``values``
    values: list  # distinct values in order of first appearance (a resolved partial plate may repeat one)

    @classmethod
    def of(cls, column: pd.Series | np.ndarray) -> Keys:
        codes, uniques = pd.factorize(column, sort=False)
        return cls(codes, uniques.tolist())

    def derive(self, values: list | np.ndarray) -> Keys:
        """Keys of the column whose value is ``values[k]`` wherever this one is ``self.values[k]``.

        Equal results merge, and the order of first appearance carries over, so
        ``Vocab.encode`` hands out the same codes as on the derived column itself.
        """
        inner, uniques = pd.factorize(values if isinstance(values, np.ndarray) else np.array(values, dtype=object), sort=False)
        return Keys(inner[self.codes], uniques.tolist())

    def pairs(self, other: Keys) -> Keys:
        """Keys of the (self, other) value pairs that occur together, as tuples."""
        width = max(len(other.values), 1)
        codes, joint = pd.factorize(self.codes * width + other.codes, sort=False)
        return Keys(codes, [(self.values[j // width], other.values[j % width]) for j in joint.tolist()])

    def take(self, per_value: list | np.ndarray, dtype: type = np.float64) -> np.ndarray:
        """Per-row array of a number (or flag) given per distinct value."""
        return np.asarray(per_value, dtype=dtype)[self.codes]

    def strings(self, per_value: list[str] | None = None) -> pd.api.extensions.ExtensionArray:
        """Per-row pandas strings of a text given per distinct value; by default, the column itself."""
        return pd.array(self.values if per_value is None else per_value, dtype="str").take(self.codes)


EMPTY = -1  # an unused row of a hash table; keys and codes are >= 0


@njit(cache=True, inline="always")
def _fnv1a(data, start, end):  # pragma: no cover - compiled
    """Not ``detector.texthash``'s hash: a byte at a time is faster on a vocabulary's short strings
    (a fifth to a quarter less time to find 600,000 plates and account keys), and these hashes never
    leave the process, where that one's make ids that must never change."""
    h = np.uint64(14695981039346656037)
    for j in range(start, end):
        h = (h ^ np.uint64(data[j])) * np.uint64(1099511628211)
    return h


@njit(cache=True, inline="always")
def _same(data, start, end, stored, at):  # pragma: no cover - compiled
    for j in range(end - start):
        if stored[at + j] != data[start + j]:
            return False
    return True


@njit(cache=True, nogil=True)
def _intern(offsets, data, blank, add, table, hashes, starts, stored, size, used):  # pragma: no cover - compiled
    """Code of each string (UTF-8 ``data`` cut at ``offsets``); unseen ones are appended in order, or with
    ``add`` off get -1.

    ``table`` holds codes by hash bucket (EMPTY where free), ``hashes`` and ``starts``
    (byte offsets into ``stored``) are per code; the caller reserved room for all.
    """
    codes = np.empty(offsets.shape[0] - 1, dtype=np.int64)
    mask = table.shape[0] - 1
    for i in range(codes.shape[0]):
        start, end = offsets[i], offsets[i + 1]
        if end == start and not blank:
            codes[i] = EMPTY
            continue
        h = _fnv1a(data, start, end)
        b = np.int64(mix64(h) & np.uint64(mask))
        while True:
            c = table[b]
            if c == EMPTY and not add:
                codes[i] = EMPTY
                break
            if c == EMPTY:
                table[b] = size
                hashes[size] = h
                stored[used:used + end - start] = data[start:end]
                used += end - start
                starts[size + 1] = used
                codes[i] = size
                size += 1
                break
            if hashes[c] == h and starts[c + 1] - starts[c] == end - start and _same(data, start, end, stored, starts[c]):
                codes[i] = c
                break
            b = (b + 1) & mask
    return codes, size, used


@njit(cache=True, nogil=True)
def _rehash(table, hashes, size):  # pragma: no cover - compiled
    mask = table.shape[0] - 1
    for c in range(size):
        b = np.int64(mix64(hashes[c]) & np.uint64(mask))
        while table[b] != EMPTY:
            b = (b + 1) & mask
        table[b] = c


def _grown(array: np.ndarray, needed: int) -> np.ndarray:
    """``array``, or a copy at least twice as long when it holds fewer than ``needed`` items."""
    if needed <= len(array):
        return array
    grown = np.zeros(max(needed, 2 * len(array)), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


class Vocab:
    """Stable string -> int code mapping; codes never change once given, unless its holder forgets (``keep``).

    The strings are kept as UTF-8 bytes under a compiled open-addressing hash table
    (FNV-1a, linear probing, at most half full), so a batch's tens of thousands of
    distinct plates find their codes in milliseconds; a Python dict of a few hundred
    thousand strings costs several times that in cache misses.
    """

    def __init__(self, values: list[str] | None = None) -> None:
        self.size = 0  # strings held
        self.used = 0  # bytes held
        self.table = np.full(1024, EMPTY, dtype=np.int64)
        self.hashes = np.zeros(512, dtype=np.uint64)
        self.starts = np.zeros(513, dtype=np.int64)  # code c's bytes are stored[starts[c]:starts[c + 1]]
        self.stored = np.zeros(4096, dtype=np.uint8)
        if values:
            self._codes(list(values), blank=True)

    def encode(self, keys: Keys, blank: bool = True) -> np.ndarray:
        """Codes per row, adding unseen values in order of first appearance.

        With ``blank`` off the empty string stands for no entity: it gets -1 and no code.
        """
        return self._codes(keys.values, blank)[keys.codes]

    def find(self, values: list[str]) -> np.ndarray:
        """Codes of ``values``, -1 for those never encoded; nothing is added."""
        return self._codes(values, blank=True, add=False)

    def keep(self, kept: np.ndarray) -> np.ndarray:
        """Only the strings ``kept`` (a mask over the codes), coded afresh in their order; returns each old
        code's new one (-1 where dropped). The one exception to codes never changing, for state that
        forgets what went idle (``detector.features``): its holder renumbers everything keyed on them.
        """
        fresh = Vocab()
        fresh._codes(self._arrow().filter(pa.array(kept)), blank=True)
        self.__dict__.update(fresh.__dict__)
        remap = np.full(len(kept), EMPTY, dtype=np.int64)
        remap[kept] = np.arange(self.size)
        return remap

    def _codes(self, values: list[str] | pa.LargeStringArray, blank: bool, add: bool = True) -> np.ndarray:
        strings = values if isinstance(values, pa.LargeStringArray) else pa.array(values, type=pa.large_string())
        _, offsets, data = strings.buffers()
        offsets = np.frombuffer(offsets, dtype=np.int64, count=len(strings) + 1)
        data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
        if add:
            self._reserve(len(strings), len(data))
        codes, self.size, self.used = _intern(offsets, data, blank, add, self.table, self.hashes, self.starts,
                                              self.stored, self.size, self.used)
        return codes

    def _reserve(self, strings: int, nbytes: int) -> None:
        """Room for ``strings`` more strings of ``nbytes`` bytes in all: the kernel never grows anything."""
        needed = self.size + strings
        self.hashes = _grown(self.hashes, needed)
        self.starts = _grown(self.starts, needed + 1)
        self.stored = _grown(self.stored, self.used + nbytes)
        if 2 * needed > len(self.table):
            rows = len(self.table)
            while rows < 2 * needed:
                rows *= 2
            self.table = np.full(rows, EMPTY, dtype=np.int64)
            _rehash(self.table, self.hashes, self.size)

    @property
    def values(self) -> list[str]:
        """The strings in code order."""
        return self._arrow().to_pylist()

    def _arrow(self) -> pa.LargeStringArray:
        return pa.LargeStringArray.from_buffers(self.size, pa.py_buffer(self.starts[: self.size + 1]),
                                                pa.py_buffer(self.stored[: self.used]))

    def __len__(self) -> int:
        return self.size


@njit(cache=True, inline="always")
def _bucket(key, mask):  # pragma: no cover - compiled
    return np.int64(mix64(np.uint64(key)) & np.uint64(mask))


@njit(cache=True, inline="always")
def _probe(table, key):  # pragma: no cover - compiled
    """The bucket holding ``key``, or the empty bucket where it would go (linear probing)."""
    mask = table.shape[0] - 1
    b = _bucket(key, mask)
    while table[b, 0] != key and table[b, 0] != EMPTY:
        b = (b + 1) & mask
    return b


@njit(cache=True, inline="always")
def slot_of(table, key, size):  # pragma: no cover - compiled
    """The slot of ``key``; a new key is added with slot ``size``, which the caller then counts."""
    b = _probe(table, key)
    if table[b, 0] == EMPTY:
        table[b, 0] = key
        table[b, 1] = size
    return table[b, 1]


@njit(cache=True, inline="always")
def find_slot(table, key):  # pragma: no cover - compiled
    """The slot of ``key``, or -1 if the table does not hold it (nothing is added)."""
    b = _probe(table, key)
    return -1 if table[b, 0] == EMPTY else table[b, 1]


@njit(cache=True, nogil=True)
def _insert(table, keys, slots):  # pragma: no cover - compiled
    """``keys`` at ``slots``; an EMPTY key (a free row of an old table's columns) is skipped."""
    for i in range(keys.shape[0]):
        if keys[i] != EMPTY:
            slot_of(table, keys[i], slots[i])


@njit(cache=True, nogil=True)
def _keys_by_slot(table, size):  # pragma: no cover - compiled
    keys = np.empty(size, dtype=np.int64)
    for b in range(table.shape[0]):
        if table[b, 0] != EMPTY:
            keys[table[b, 1]] = table[b, 0]
    return keys


class SlotMap:
    """int64 key -> slot, the row of the table it feeds; slots are handed out 0, 1, 2, ... as keys come.

    An open-addressing hash table with linear probing in one numpy array of (key, slot)
    rows, kept at most half full, so the kernels find a key in about one cache miss
    (numba's typed dict costs several hundred nanoseconds a lookup).
    """

    def __init__(self) -> None:
        self.table = np.full((1024, 2), EMPTY, dtype=np.int64)

    def reserve(self, keys: int) -> None:
        """Room for ``keys`` keys in all; the kernels never grow the table themselves."""
        if 2 * keys <= len(self.table):
            return
        rows = len(self.table)
        while rows < 2 * keys:
            rows *= 2
        old, self.table = self.table, np.full((rows, 2), EMPTY, dtype=np.int64)
        _insert(self.table, old[:, 0], old[:, 1])

    def to_arrays(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """(keys, slots) in slot order, which is the order the keys came in."""
        return _keys_by_slot(self.table, size), np.arange(size, dtype=np.int64)

    @classmethod
    def from_arrays(cls, keys: np.ndarray, slots: np.ndarray) -> SlotMap:
        slot_map = cls()
        slot_map.reserve(len(keys))
        _insert(slot_map.table, np.asarray(keys, dtype=np.int64), np.asarray(slots, dtype=np.int64))
        return slot_map


class Table:
    """Columns of per-entity numbers that grow with the vocabulary or slot map feeding them.

    ``slots`` (optional) maps an int64 composite key, such as user * 2**32 + plate,
    to a row, inside the compiled kernels.
    """

    def __init__(self, columns: dict[str, tuple], keyed: bool = False) -> None:
        # name -> (dtype, fill) or (dtype, fill, width) for a per-row vector such as an hour histogram
        self.spec = {name: (c[0], c[1], c[2] if len(c) > 2 else 0) for name, c in columns.items()}
        self.size = 0
        self.data: dict[str, np.ndarray] = {name: self._block(64, c) for name, c in self.spec.items()}
        self.slots = SlotMap() if keyed else None

    @staticmethod
    def _block(rows: int, col: tuple) -> np.ndarray:
        dt, fill, width = col
        return np.full((rows, width) if width else rows, fill, dtype=dt)

    def reserve(self, rows: int) -> None:
        """Room for ``rows`` rows (and keys of the slot map)."""
        if self.slots is not None:
            self.slots.reserve(rows)
        cap = len(next(iter(self.data.values())))
        if rows <= cap:
            return
        new_cap = max(rows, cap * 2)
        for name, col in self.spec.items():
            grown = self._block(new_cap, col)
            grown[:cap] = self.data[name]
            self.data[name] = grown

    def keys(self) -> np.ndarray:
        """The slot map's key of each row."""
        return self.slots.to_arrays(self.size)[0]

    def keep(self, kept: np.ndarray, keys: np.ndarray | None = None) -> None:
        """Only the rows ``kept`` (a mask over the rows), renumbered in their order; with a slot map,
        under ``keys`` (one per kept row) where the holder renumbered what the keys are made of."""
        n = int(np.count_nonzero(kept))
        if self.slots is not None:
            self.slots = SlotMap.from_arrays(self.keys()[kept] if keys is None else keys, np.arange(n, dtype=np.int64))
        for name, col in self.spec.items():
            block = self._block(max(n, 64), col)
            block[:n] = self.data[name][: self.size][kept]
            self.data[name] = block
        self.size = n

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}.{k}": v[: self.size].copy() for k, v in self.data.items()}
        if self.slots is not None:
            keys, slots = self.slots.to_arrays(self.size)
            out[f"{prefix}.__keys"] = keys
            out[f"{prefix}.__slots"] = slots
        return out

    def load_arrays(self, prefix: str, arrays: dict[str, np.ndarray]) -> None:
        """Rebuild from ``to_arrays``; a column the arrays lack (added to the table after they
        were written) starts at its fill value, as for a row seen for the first time."""
        size = len(arrays[f"{prefix}.{next(iter(self.spec))}"])
        self.size = 0
        if self.slots is not None:
            self.slots = SlotMap.from_arrays(arrays[f"{prefix}.__keys"], arrays[f"{prefix}.__slots"])
        self.reserve(size)
        for name in self.spec:
            if f"{prefix}.{name}" in arrays:
                self.data[name][:size] = arrays[f"{prefix}.{name}"]
        self.size = size
