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
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from detector import store
from detector.alerts import Alert, Alerter

log = logging.getLogger(__name__)

_JSON = "::json"
_META = "__meta__"


def encode_state(arrays: dict[str, np.ndarray], meta: dict) -> bytes:
    """State as one npz blob; string arrays travel as JSON so loading needs no pickle."""
    out: dict[str, np.ndarray] = {}
    for name, values in arrays.items():
        if values.dtype.kind in "biuf":
            out[name] = values
        else:
            out[name + _JSON] = np.frombuffer(json.dumps(values.tolist(), ensure_ascii=False).encode(), dtype=np.uint8)
    out[_META + _JSON] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **out)
    return buf.getvalue()


def decode_state(blob: bytes) -> tuple[dict[str, np.ndarray], dict]:
    """Inverse of ``encode_state``: string arrays come back as object arrays of ``str``."""
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
    alerter.open = {a["key"]: Alert(**a) for a in open_alerts}


@dataclass
class TaskCheckpoint:
    """What one task adds to a checkpoint."""

    topic: str
    partition: int
    expected_offset: int | None  # next_offset in the store when the task last loaded or committed it
    next_offset: int
    arrays: dict[str, np.ndarray]  # the task's state, as copies taken at the snapshot
    meta: dict
    searches: list[pd.DataFrame] = field(default_factory=list)  # canonical rows, for the dashboard's evidence pages
    scores: list[pd.DataFrame] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    state: bytes | None = None  # ``arrays`` and ``meta`` encoded, by ``commit``: off the thread that processes

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
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            stmt = insert(table).values(group_id=self.group, topic=entry.topic, partition=entry.partition, **values)
            # rowcount of INSERT .. ON CONFLICT is -1 under psycopg: count the returned rows instead
            done = len(conn.execute(stmt.on_conflict_do_nothing().returning(table.c.partition)).all())
        else:
            stmt = table.update().where(self._where(entry.topic, entry.partition)
                                        & (table.c.next_offset == entry.expected_offset)).values(**values)
            done = conn.execute(stmt).rowcount
        if done != 1:
            raise Conflict(entry)


def _save_outputs(conn: Connection, entries: list[TaskCheckpoint]) -> None:
    """Every task's searches, scores and alerts written together: the bulk writes cost per call, not per row."""
    for rows, save in (([f for e in entries for f in e.searches], store.save_searches),
                       ([f for e in entries for f in e.scores], store.save_scores)):
        if rows:
            save(conn, rows[0] if len(rows) == 1 else pd.concat(rows, ignore_index=True))
    alerts = [a for e in entries for a in e.alerts]
    if alerts:
        store.save_alerts(conn, alerts)
