"""Repartition messages and the event-time merge of the rows several upstream partitions send.

Rows travel between stages as Arrow tables: one message (an Arrow IPC stream) holds
the rows of one batch bound for one partition, with the sending partition and its
watermark in the schema's metadata. Arrow keeps every value and dtype exactly, and
decoding, filtering and sorting run in Arrow's C++ over all columns at once, where
pandas would pay a per-column Python overhead on every small message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NO_WM = -(2**63)  # nothing known about an upstream partition yet
END = 2**63 - 1  # an idle upstream partition holds nothing back
MAX_ROWS = 2000  # rows per repartition message, well under the message size limit
SOURCE, PRODUCED = "_src", "_in_ms"  # row metadata: origin offset (or sequence number), produce time in ms
META = (SOURCE, PRODUCED)
ORDER = [("t", "ascending"), ("search_id", "ascending")]  # the order a replay takes searches in
_KEY = b"alpr.packet"
_NOTHING = pa.table({})


@dataclass
class Packet:
    """One message of an internal topic: rows from one upstream partition, and its watermark.

    ``wm`` promises that every later row from ``origin`` has ``t >= wm``; ``idle`` says
    the origin is caught up and quiet, so it should hold nothing back.
    """

    origin: int
    wm: int
    idle: bool
    rows: pa.Table


def encode_packet(origin: int, wm: int, idle: bool, rows: pa.Table | None) -> bytes:
    meta = json.dumps({"v": 2, "origin": origin, "wm": wm, "idle": idle}).encode()
    return ipc_bytes((_NOTHING if rows is None else rows).replace_schema_metadata({_KEY: meta}))


def decode_packet(value: bytes) -> Packet:
    """Raises ValueError (``pa.ArrowInvalid`` is one), KeyError or TypeError for anything else."""
    table = read_ipc(value)
    meta = json.loads(table.schema.metadata[_KEY])
    return Packet(int(meta["origin"]), int(meta["wm"]), bool(meta["idle"]), table.replace_schema_metadata(None))


def ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def read_ipc(value: bytes) -> pa.Table:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(value).__name__}")
    return pa.ipc.open_stream(value).read_all()


def packets(origin: int, rows: pa.Table | None, wm: int, idle: bool) -> list[bytes]:
    """Rows (in event-time order) split into messages; only the last one carries the full watermark.

    An earlier chunk can promise no more than its own last ``t``: later chunks of the
    same batch still hold rows with that time or later.
    """
    if rows is None or rows.num_rows <= MAX_ROWS:
        return [encode_packet(origin, wm, idle, rows)]
    out = []
    for start in range(0, rows.num_rows, MAX_ROWS):
        chunk = rows.slice(start, MAX_ROWS)
        last = start + MAX_ROWS >= rows.num_rows
        out.append(encode_packet(origin, wm if last else chunk.column("t")[-1].as_py(), idle and last, chunk))
    return out


def column(table: pa.Table, name: str) -> np.ndarray:
    """One numeric column as numpy (no copy for the usual single chunk)."""
    return table.column(name).to_numpy()


class Merger:
    """Buffers rows from several upstream partitions and releases them in (t, search_id) order.

    Rows are released once every upstream partition has promised nothing earlier is
    to come (its watermark) or gone idle. Release is decided after each message, so
    what is released, and in which order, depends only on the input log, never on
    how polls happened to batch it: a restarted task emits the same sequence again.
    Rows whose origin offset (or sequence number) was applied before are duplicates
    from an upstream task that redid a batch after a crash, and are dropped.
    """

    def __init__(self, origins: int) -> None:
        self.wm = [NO_WM] * origins
        self.idle = [False] * origins
        self.applied = [-1] * origins
        self.pending: list[_Chunk] = []  # in arrival order
        self.released = NO_WM

    def bound(self) -> int:
        return min(END if idle else wm for wm, idle in zip(self.wm, self.idle))

    def offer(self, pkt: Packet) -> tuple[pa.Table | None, int, int]:
        """Take one message; returns (rows released now or None, duplicates dropped, late rows)."""
        o, rows, dups, late = pkt.origin, pkt.rows, 0, 0
        if rows.num_rows:
            src = column(rows, SOURCE)
            fresh = src > self.applied[o]
            dups = int(len(src) - np.count_nonzero(fresh))
            if dups:
                rows, src = rows.filter(pa.array(fresh)), src[fresh]
        if rows.num_rows:
            chunk = _Chunk.of(rows)
            self.applied[o] = int(src.max())
            self.wm[o] = max(self.wm[o], chunk.t_max)
            late = int(np.count_nonzero(column(rows, "t") < self.released))
            self.pending.append(chunk)
        self.wm[o] = max(self.wm[o], pkt.wm)
        self.idle[o] = pkt.idle
        return self._release(), dups, late

    def _release(self) -> pa.Table | None:
        """The buffered rows before the bound, sorted; only chunks that straddle it are split."""
        bound = self.bound()
        if not any(c.t_min < bound for c in self.pending):
            return None
        out, keep = [], []
        for c in self.pending:
            if c.t_max < bound:
                out.append(c.rows)
            elif c.t_min >= bound:
                keep.append(c)
            else:
                early, late = c.split(bound)
                out.append(early)
                keep.append(_Chunk.of(late))
        self.pending = keep
        frame = out[0] if len(out) == 1 else pa.concat_tables(out)
        self.released = max(self.released, int(column(frame, "t").max()))
        order = pc.sort_indices(frame, sort_keys=ORDER).to_numpy()
        if np.any(order[1:] < order[:-1]):  # one upstream partition's rows usually come in order already
            frame = frame.take(order)
        return frame.combine_chunks()

    @property
    def empty(self) -> bool:
        return not self.pending

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        """The buffered rows (as one Arrow IPC stream) and the positions, for a checkpoint."""
        arrays = {}
        if self.pending:
            frame = pa.concat_tables([c.rows for c in self.pending])
            arrays["merge.ipc"] = np.frombuffer(ipc_bytes(frame), dtype=np.uint8)
        # copies: the checkpoint thread encodes them while ``offer`` goes on changing the lists
        return arrays, {"wm": list(self.wm), "idle": list(self.idle), "applied": list(self.applied),
                        "released": self.released}

    def load_arrays(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        self.wm, self.idle, self.applied = list(meta["wm"]), list(meta["idle"]), list(meta["applied"])
        self.released = int(meta["released"])
        self.pending = [_Chunk.of(read_ipc(arrays["merge.ipc"].tobytes()))] if "merge.ipc" in arrays else []


@dataclass(frozen=True)
class _Chunk:
    """Buffered rows and their time span, so that a release touches only what it has to."""

    rows: pa.Table
    t_min: int
    t_max: int
    in_order: bool  # by time, as an upstream partition sends them unless its input was out of order

    @classmethod
    def of(cls, rows: pa.Table) -> _Chunk:
        t = column(rows, "t")
        return cls(rows, int(t.min()), int(t.max()), bool(np.all(t[1:] >= t[:-1])))

    def split(self, bound: int) -> tuple[pa.Table, pa.Table]:
        """The rows before ``bound`` and the others, each in their order here (slices where the rows are in order)."""
        t = column(self.rows, "t")
        if self.in_order:
            at = int(np.searchsorted(t, bound))
            return self.rows.slice(0, at), self.rows.slice(at)
        early = t < bound
        return self.rows.filter(pa.array(early)), self.rows.filter(pa.array(~early))
