"""Checkpoints: a task's state, its next offset and its outputs, committed together.

Exactly-once *effect* without Kafka transactions: the store is the source of truth.
A batch's outputs are first made durable in Kafka, then one database transaction
writes, for every task the batch touched, the detector state, the next offset to
read and the rows it adds to the store (scores, alerts). A crash before that
transaction redoes the batch from the previous checkpoint; the messages it sends a
second time carry the same origin offsets (or sequence numbers) and the next stage
drops them. Each checkpoint row is written with compare-and-set on ``next_offset``,
so an instance that lost a partition without noticing (a zombie) cannot overwrite
the checkpoint of its new owner.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import struct
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from detector import store
from detector.alerts import Alert, Alerter, blank_stats
from detector.schema import SCORE_COLUMNS

log = logging.getLogger(__name__)

# SQLite in WAL mode with synchronous=NORMAL syncs at WAL checkpoints, not at every commit
# (FULL, the default, costs ~50 ms a commit of a few MB of state here). A power cut or OS
# crash may then undo the last commits, all of them together with their offsets: the
# stream redoes them from the checkpoint before, as after a crash of its own, so results
# stay exactly-once. Only a commit's durability is given up, never its atomicity.
SQLITE_SYNC = "NORMAL"
_JSON = "::json"
_META = "__meta__"
_STATE = b"alpr.state.2\x00"  # an npz blob of earlier versions (a zip file) starts with "PK"


def encode_state(arrays: dict[str, np.ndarray], meta: dict) -> bytes:
    """State as one blob: a JSON head (names, dtypes, shapes, string arrays, ``meta``), the
    numeric arrays' bytes after it, all LZ4-compressed. Loading needs no pickle.

    A checkpoint rewrites every changed task's whole state, so this is paid per
    checkpoint. Compressed, the blob is a third of the bytes to write (mostly small
    integers and unused slots) for a few milliseconds of LZ4 outside the GIL; one head
    instead of a zip entry per array (the npz of earlier versions) keeps encoding as
    fast as before, and loading is seven times faster.
    """
    listed: list[list] = []
    buffers: list[memoryview] = []
    for name, values in arrays.items():
        if values.dtype.kind in "biuf":
            listed.append([name, values.dtype.str, list(values.shape), None])
            # flat: a memoryview cannot cast an empty table's (0, width) shape to bytes
            buffers.append(memoryview(np.ascontiguousarray(values).reshape(-1)).cast("B"))
        else:
            listed.append([name, None, None, values.tolist()])
    head = json.dumps({"arrays": listed, "meta": meta}, ensure_ascii=False).encode()
    payload = b"".join([struct.pack("<Q", len(head)), head, *buffers])
    return _STATE + struct.pack("<Q", len(payload)) + pa.compress(payload, codec="lz4", asbytes=True)


def decode_state(blob: bytes) -> tuple[dict[str, np.ndarray], dict]:
    """Inverse of ``encode_state``: string arrays come back as object arrays of ``str``, the others writable.

    Also reads the npz blobs earlier versions wrote.
    """
    if blob[:len(_STATE)] != _STATE:
        return _decode_npz(blob)
    (size,) = struct.unpack_from("<Q", blob, len(_STATE))
    payload = bytearray(pa.decompress(memoryview(blob)[len(_STATE) + 8:], decompressed_size=size, codec="lz4", asbytes=True))
    (length,) = struct.unpack_from("<Q", payload)
    head = json.loads(payload[8:8 + length].decode())
    arrays: dict[str, np.ndarray] = {}
    at = 8 + length
    for name, dtype, shape, strings in head["arrays"]:
        if dtype is None:
            arrays[name] = np.array(strings, dtype=object)
            continue
        values = np.frombuffer(payload, dtype=dtype, count=int(np.prod(shape)), offset=at).reshape(shape)
        arrays[name] = values
        at += values.nbytes
    return arrays, head["meta"]


def _decode_npz(blob: bytes) -> tuple[dict[str, np.ndarray], dict]:
    """The npz blobs of earlier versions: string arrays as JSON in ``<name>::json`` entries."""
    arrays: dict[str, np.ndarray] = {}
    meta: dict = {}
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        for name in npz.files:
            values = npz[name]
            if name == _META + _JSON:
                meta = json.loads(values.tobytes().decode())
            elif name.endswith(_JSON):
                arrays[name.removesuffix(_JSON)] = np.array(json.loads(values.tobytes().decode()), dtype=object)
            else:
                arrays[name] = values
    return arrays, meta


def alerter_state(alerter: Alerter) -> list[dict]:
    """Open episodes as plain JSON values (floats round-trip exactly through ``json``)."""
    return [dataclasses.asdict(a) for a in alerter.open.values()]


def load_alerter(alerter: Alerter, open_alerts: list[dict]) -> None:
    # episodes checkpointed by an earlier version lack the statistics added since: they start at nothing
    alerter.open = {a["key"]: Alert(**a | {"stats": blank_stats() | a["stats"]}) for a in open_alerts}


@dataclass
class TaskCheckpoint:
    """What one task adds to a checkpoint."""

    topic: str
    partition: int
    expected_offset: int | None  # next_offset in the store when the task last loaded or committed it
    next_offset: int
    arrays: dict[str, np.ndarray]  # the task's state, as copies taken at the snapshot
    meta: dict
    searches: list[tuple[pd.DataFrame, int, int]] = field(default_factory=list)  # canonical rows a:b of batches, for the dashboard
    scores: list[tuple[np.ndarray, ...]] = field(default_factory=list)  # (search_id, score, flagged, alert_id) arrays
    alerts: list[dict] = field(default_factory=list)
    state: bytes | None = None  # ``arrays`` and ``meta`` encoded, on the checkpoint thread: off the one that processes

    def encoded(self) -> bytes:
        if self.state is None:
            self.state = encode_state(self.arrays, self.meta)
        return self.state


class Conflict(Exception):
    """Another instance committed this partition since we loaded it."""

    def __init__(self, entry: TaskCheckpoint) -> None:
        super().__init__(f"{entry.topic}/{entry.partition}")
        self.entry = entry


class CheckpointStore:
    """Reads and writes the ``checkpoints`` table for one consumer group.

    Commit order (each step only after the one before succeeded):

    1. The caller hands every alert record to Kafka and waits until Kafka has every
       message the batches produced (repartition rows, alerts, DLQ).
    2. ``commit``: one store transaction; per task, compare-and-set of its checkpoint
       row (next offset and state); then the searches, scores and alerts of them all.
    3. The caller commits group offsets to Kafka; they only serve lag monitoring.

    A task whose compare-and-set fails is left out and reported, the others commit.
    """

    def __init__(self, engine: Engine, group: str) -> None:
        self.engine = engine
        self.group = group

    def _where(self, topic: str, partition: int) -> sa.ColumnElement[bool]:
        c = store.checkpoints.c
        return (c.group_id == self.group) & (c.topic == topic) & (c.partition == partition)

    def next_offset(self, topic: str, partition: int) -> int | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(store.checkpoints.c.next_offset).where(self._where(topic, partition))).scalar()

    def load(self, topic: str, partition: int) -> tuple[int, bytes | None] | None:
        c = store.checkpoints.c
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(c.next_offset, c.state).where(self._where(topic, partition))).first()
        return (int(row[0]), row[1]) if row else None

    def commit(self, entries: list[TaskCheckpoint]) -> list[TaskCheckpoint]:
        """Step 2 for ``entries``; returns the ones that conflicted."""
        conflicts: list[TaskCheckpoint] = []
        pending = list(entries)
        while pending:
            try:
                with self.engine.begin() as conn:
                    if conn.dialect.name == "sqlite":
                        # a commit need not wait for the disk: see ``SQLITE_SYNC``
                        conn.exec_driver_sql(f"PRAGMA synchronous={SQLITE_SYNC}")
                    for entry in pending:
                        self._claim(conn, entry)
                    _save_outputs(conn, pending)
                return conflicts
            except Conflict as exc:
                log.warning("checkpoint of %s was committed by another instance; reloading it", exc)
                conflicts.append(exc.entry)
                pending.remove(exc.entry)
        return conflicts

    def _claim(self, conn: Connection, entry: TaskCheckpoint) -> None:
        """Compare-and-set of the task's checkpoint row; raises ``Conflict`` if another instance moved it."""
        table = store.checkpoints
        values = {"next_offset": entry.next_offset, "state": entry.encoded(), "updated_at": sa.func.now()}
        if entry.expected_offset is None:
            stmt = store.dialect_insert(conn, table).values(group_id=self.group, topic=entry.topic, partition=entry.partition, **values)
            # rowcount of INSERT .. ON CONFLICT is -1 under psycopg: count the returned rows instead
            done = len(conn.execute(stmt.on_conflict_do_nothing().returning(table.c.partition)).all())
        else:
            stmt = table.update().where(self._where(entry.topic, entry.partition)
                                        & (table.c.next_offset == entry.expected_offset)).values(**values)
            done = conn.execute(stmt).rowcount
        if done != 1:
            raise Conflict(entry)


def _save_outputs(conn: Connection, entries: list[TaskCheckpoint]) -> None:
    """Every task's searches, scores and alerts written together: the bulk writes cost per call, not per row.

    The frames are cut and put together here, on the checkpoint thread, not where the batches are processed.
    """
    searches = [batch if b - a == len(batch) else batch.iloc[a:b] for e in entries for batch, a, b in e.searches]
    if searches:
        store.save_searches(conn, searches[0] if len(searches) == 1 else pd.concat(searches, ignore_index=True))
    scores = [s for e in entries for s in e.scores]
    if scores:
        store.save_scores(conn, pd.DataFrame(dict(zip(SCORE_COLUMNS, map(np.concatenate, zip(*scores))))))
    alerts = [a for e in entries for a in e.alerts]
    if alerts:
        store.save_alerts(conn, alerts)
