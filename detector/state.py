"""Persistent per-entity state: string vocabularies and growable numeric tables.

State is what makes features causal and lets a stream resume where it stopped: every
table can be exported as plain numpy arrays (``to_arrays``) and rebuilt from them
(``from_arrays``), which is what checkpoints store.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit, types
from numba.typed import Dict


class Vocab:
    """Stable string -> int code mapping; codes never change once given."""

    def __init__(self, values: list[str] | None = None) -> None:
        self.values: list[str] = list(values or [])
        self.index: dict[str, int] = {v: i for i, v in enumerate(self.values)}

    def encode(self, column: pd.Series) -> np.ndarray:
        """Codes for a column, adding unseen values."""
        codes, uniques = pd.factorize(column, sort=False)
        mapped = np.empty(len(uniques), dtype=np.int64)
        for i, u in enumerate(uniques):
            code = self.index.get(u)
            if code is None:
                code = len(self.values)
                self.index[u] = code
                self.values.append(u)
            mapped[i] = code
        return mapped[codes] if len(codes) else np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.values)


def new_slot_map() -> Dict:
    return Dict.empty(key_type=types.int64, value_type=types.int64)


@njit(cache=True)
def _fill(d, keys, slots):  # pragma: no cover - compiled
    for i in range(keys.shape[0]):
        d[keys[i]] = slots[i]


@njit(cache=True)
def _dump(d):  # pragma: no cover - compiled
    keys = np.empty(len(d), dtype=np.int64)
    slots = np.empty(len(d), dtype=np.int64)
    i = 0
    for k, v in d.items():
        keys[i] = k
        slots[i] = v
        i += 1
    return keys, slots


class Table:
    """Columns of per-entity numbers that grow with the vocabulary or slot map feeding them.

    ``slots`` (optional) maps an int64 composite key, such as user * 2**32 + plate,
    to a row; numba's typed dict keeps that lookup inside the compiled kernels.
    """

    def __init__(self, columns: dict[str, tuple], keyed: bool = False) -> None:
        # name -> (dtype, fill) or (dtype, fill, width) for a per-row vector such as an hour histogram
        self.spec = {name: (c[0], c[1], c[2] if len(c) > 2 else 0) for name, c in columns.items()}
        self.size = 0
        self.data: dict[str, np.ndarray] = {name: self._block(64, c) for name, c in self.spec.items()}
        self.slots = new_slot_map() if keyed else None

    @staticmethod
    def _block(rows: int, col: tuple) -> np.ndarray:
        dt, fill, width = col
        return np.full((rows, width) if width else rows, fill, dtype=dt)

    def reserve(self, rows: int) -> None:
        cap = len(next(iter(self.data.values())))
        if rows <= cap:
            return
        new_cap = max(rows, cap * 2)
        for name, col in self.spec.items():
            grown = self._block(new_cap, col)
            grown[:cap] = self.data[name]
            self.data[name] = grown

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}.{k}": v[: self.size].copy() for k, v in self.data.items()}
        if self.slots is not None:
            keys, slots = _dump(self.slots)
            out[f"{prefix}.__keys"] = keys
            out[f"{prefix}.__slots"] = slots
        return out

    def load_arrays(self, prefix: str, arrays: dict[str, np.ndarray]) -> None:
        size = len(arrays[f"{prefix}.{next(iter(self.spec))}"])
        self.size = 0
        self.reserve(size)
        for name in self.spec:
            self.data[name][:size] = arrays[f"{prefix}.{name}"]
        self.size = size
        if self.slots is not None:
            self.slots = new_slot_map()
            _fill(self.slots, arrays[f"{prefix}.__keys"], arrays[f"{prefix}.__slots"])
