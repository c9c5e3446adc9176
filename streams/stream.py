"""The stream: searches from Kafka through the replay's Detector, partitioned in three stages.

Kafka Streams style: every partition of every stage topic is a task with its own
state, and one consumer group spreads the tasks over the running instances.

1. ``<topic>`` (keyed by agency): ``Detector.user_stage`` with the partition's
   ``UserSide``; the featured context rows go to ``<topic>.by-target``, routed by
   the plate's circle (else the plate, else the agency).
2. ``<topic>.by-target``: ``target_stage`` and ``score`` with the partition's
   ``TargetSide``; scores go to the store and flagged searches to
   ``<topic>.episodes``, routed by episode key (``Alerter._key``).
3. ``<topic>.episodes``: a per-partition ``Alerter`` groups them into alerts, which
   go to the store and to ``<topic>.alerts``.

A stage fed by several upstream partitions releases rows in event-time order
(``t``, then ``search_id``) up to the lowest watermark of its upstream partitions,
which is what makes a stream over any number of partitions and instances compute
what a replay computes. Rows of one batch bound for one partition travel together
in one message (columnar JSON): per-message overhead would otherwise cap the stream
well below the rate one instance can score.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from kafka import TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.structs import OffsetAndMetadata

from detector import store as store_mod
from detector.alerts import PATTERN_COLUMNS, Alert, Alerter
from detector.engine import Detector
from detector.policy import load_policy
from detector.reference import load_reference
from detector.rules import PATTERN_SIGNALS, SIGNALS
from detector.schema import REQUIRED, ts_ns
from detector.validate import Reject, canonicalize
from streams.checkpoint import (CheckpointStore, TaskCheckpoint, alerter_state, column, decode_state, encode_state,
                                frame_from_arrays, frame_to_arrays, load_alerter)
from streams.kafka_io import KafkaSettings, Topics, ensure_topics, route
from streams.metrics import StreamMetrics

log = logging.getLogger(__name__)

NO_WM = -(2**63)  # nothing known about an upstream partition yet
END = 2**63 - 1  # an idle upstream partition holds nothing back
MAX_ROWS = 2000  # rows per repartition message, well under the message size limit
SOURCE, PRODUCED = "_src", "_in_ms"  # row metadata: origin offset (or sequence number), produce time in ms
META = (SOURCE, PRODUCED)
ATTR = [f"attr.{name}" for name in SIGNALS]


# ----------------------------------------------------------------------------------
# Repartition messages


@dataclass
class Packet:
    """One message of an internal topic: rows from one upstream partition, and its watermark.

    ``wm`` promises that every later row from ``origin`` has ``t >= wm``; ``idle`` says
    the origin is caught up and quiet, so it should hold nothing back.
    """

    origin: int
    wm: int
    idle: bool
    rows: pd.DataFrame


def encode_packet(origin: int, wm: int, idle: bool, rows: pd.DataFrame | None) -> bytes:
    """Columnar JSON; numeric columns as base64 of their little-endian bytes (exact, and cheap)."""
    cols, dtypes = {}, {}
    for name, values in ({} if rows is None else rows.items()):
        dtypes[name] = str(values.dtype)
        if values.dtype.kind in "biuf":
            cols[name] = base64.b64encode(values.to_numpy().astype(values.dtype.newbyteorder("<"), copy=False).tobytes()).decode()
        else:
            cols[name] = values.tolist()
    return json.dumps({"v": 1, "origin": origin, "wm": wm, "idle": idle, "dtypes": dtypes, "columns": cols},
                      ensure_ascii=False).encode()


def decode_packet(value: bytes) -> Packet:
    body = json.loads(value)
    cols = {}
    for name, values in body["columns"].items():
        dtype = body["dtypes"][name]
        if isinstance(values, str):
            cols[name] = np.frombuffer(base64.b64decode(values), dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
        else:
            cols[name] = column(values, dtype)
    return Packet(int(body["origin"]), int(body["wm"]), bool(body["idle"]), pd.DataFrame(cols))


def packets(origin: int, rows: pd.DataFrame | None, wm: int, idle: bool) -> list[bytes]:
    """Rows (in event-time order) split into messages; only the last one carries the full watermark.

    An earlier chunk can promise no more than its own last ``t``: later chunks of the
    same batch still hold rows with that time or later.
    """
    if rows is None or len(rows) <= MAX_ROWS:
        return [encode_packet(origin, wm, idle, rows)]
    out = []
    for start in range(0, len(rows), MAX_ROWS):
        chunk = rows.iloc[start:start + MAX_ROWS]
        last = start + MAX_ROWS >= len(rows)
        out.append(encode_packet(origin, wm if last else int(chunk["t"].iloc[-1]), idle and last, chunk))
    return out


# ----------------------------------------------------------------------------------
# Event-time merge of several upstream partitions


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
        self.pending: list[pd.DataFrame] = []
        self.pending_min = END
        self.released = NO_WM

    def bound(self) -> int:
        return min(END if idle else wm for wm, idle in zip(self.wm, self.idle))

    def offer(self, pkt: Packet) -> tuple[pd.DataFrame | None, int, int]:
        """Take one message; returns (rows released now or None, duplicates dropped, late rows)."""
        o, rows, dups, late = pkt.origin, pkt.rows, 0, 0
        if len(rows):
            fresh = rows[SOURCE].to_numpy() > self.applied[o]
            dups = int(len(rows) - fresh.sum())
            rows = rows.loc[fresh] if dups else rows
        if len(rows):
            t = rows["t"].to_numpy()
            self.applied[o] = int(rows[SOURCE].max())
            self.wm[o] = max(self.wm[o], int(t.max()))
            late = int((t < self.released).sum())
            self.pending.append(rows)
            self.pending_min = min(self.pending_min, int(t.min()))
        self.wm[o] = max(self.wm[o], pkt.wm)
        self.idle[o] = pkt.idle
        return self._release(), dups, late

    def _release(self) -> pd.DataFrame | None:
        bound = self.bound()
        if not self.pending or self.pending_min >= bound:
            return None
        frame = self.pending[0] if len(self.pending) == 1 else pd.concat(self.pending, ignore_index=True)
        early = frame["t"].to_numpy() < bound
        rest = frame.loc[~early].reset_index(drop=True)
        self.pending = [rest] if len(rest) else []
        self.pending_min = int(rest["t"].min()) if len(rest) else END
        out = frame.loc[early].sort_values(["t", "search_id"], kind="stable").reset_index(drop=True)
        self.released = max(self.released, int(out["t"].iloc[-1]))
        return out

    @property
    def empty(self) -> bool:
        return not self.pending

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        frame = pd.concat(self.pending, ignore_index=True) if len(self.pending) > 1 else (
            self.pending[0] if self.pending else pd.DataFrame())
        arrays, dtypes = frame_to_arrays(frame, "merge")
        return arrays, {"wm": self.wm, "idle": self.idle, "applied": self.applied, "released": self.released,
                        "dtypes": dtypes}

    def load_arrays(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        self.wm, self.idle, self.applied = list(meta["wm"]), list(meta["idle"]), list(meta["applied"])
        self.released = int(meta["released"])
        frame = frame_from_arrays(arrays, "merge", meta["dtypes"]) if meta["dtypes"] else pd.DataFrame()
        self.pending = [frame] if len(frame) else []
        self.pending_min = int(frame["t"].min()) if len(frame) else END


# ----------------------------------------------------------------------------------
# Tasks: one per assigned partition


@dataclass
class StageContext:
    """What the tasks of one process share: the detector, topic layout and callbacks."""

    detector: Detector
    topics: Topics
    partitions: dict[str, int]
    metrics: StreamMetrics
    dead_letter: Callable[[Reject, bytes | None, bytes | None], None]
    idle_grace: float  # seconds a caught-up searches partition stays quiet before it holds nothing back


@dataclass
class Task:
    """One partition of one stage: its state, position and not yet committed outputs."""

    topic: str
    partition: int
    ctx: StageContext
    next_offset: int = 0
    committed: int | None = None  # next_offset as stored; None when the store has no row yet
    dirty: bool = False
    outbox: dict[int, list[pd.DataFrame]] = field(default_factory=dict)
    sent: dict[int, tuple[int, bool]] = field(default_factory=dict)
    searches: list[pd.DataFrame] = field(default_factory=list)
    scores: list[pd.DataFrame] = field(default_factory=list)
    alerts: dict[str, Alert] = field(default_factory=dict)
    produced: dict[str, list[np.ndarray]] = field(default_factory=dict)

    stage = 0

    def checkpoint(self) -> TaskCheckpoint:
        arrays, meta = self.state()
        return TaskCheckpoint(self.topic, self.partition, self.committed, self.next_offset, encode_state(arrays, meta),
                              searches=list(self.searches), scores=list(self.scores),
                              alerts=[a.to_record() for a in self.alerts.values()])

    def mark_committed(self) -> None:
        self.committed = self.next_offset
        self.dirty = False
        self.searches, self.scores, self.alerts, self.produced = [], [], {}, {}

    def restore(self, next_offset: int, blob: bytes | None) -> None:
        self.next_offset = self.committed = next_offset
        if blob:
            self.load(*decode_state(blob))

    def keep_produced(self, kind: str, rows: pd.DataFrame) -> None:
        self.produced.setdefault(kind, []).append(rows[PRODUCED].to_numpy())

    def route_out(self, rows: pd.DataFrame, keys: pd.Series, partitions: int) -> None:
        dest = route(keys, partitions)
        for p in np.unique(dest):
            self.outbox.setdefault(int(p), []).append(rows.loc[dest == p])

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        raise NotImplementedError

    def load(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        raise NotImplementedError

    def process(self, records: list) -> None:
        raise NotImplementedError

    def watermark(self) -> tuple[int, bool]:
        """(watermark, idle) this task promises downstream."""
        return NO_WM, False


class SearchTask(Task):
    """Stage 1: validation, dead letters, dedup and the user-side features of one agency partition."""

    stage = 1

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from detector.features import UserSide

        self.user_side = UserSide()
        self.seen = np.zeros(0, dtype=np.uint64)  # hashed search ids, sorted: the replay's Deduplicator, per partition
        self.wm = NO_WM
        self.caught_up = False
        self.quiet_since = time.monotonic()

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays = {f"user.{k}": v for k, v in self.user_side.to_arrays().items()}
        arrays["seen"] = self.seen
        return arrays, {"wm": self.wm}

    def load(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        self.user_side.load_arrays({k.removeprefix("user."): v for k, v in arrays.items() if k.startswith("user.")})
        self.seen = arrays["seen"]
        self.wm = int(meta["wm"])

    def watermark(self) -> tuple[int, bool]:
        idle = self.caught_up and time.monotonic() - self.quiet_since >= self.ctx.idle_grace
        return self.wm, idle

    def process(self, records: list) -> None:
        ctx = self.ctx
        source = f"{self.topic}/{self.partition}"
        rows, offsets, produced, raw = [], [], [], {}
        for rec in records:
            raw[rec.offset] = (rec.key, rec.value)
            try:
                obj = json.loads(rec.value) if rec.value is not None else None
                if not isinstance(obj, dict):
                    raise ValueError("empty message" if obj is None else f"a JSON {type(obj).__name__}")
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                ctx.dead_letter(Reject(source, rec.offset, "", f"not a JSON object: {exc}", ""), rec.key, rec.value)
                continue
            rows.append(obj)
            offsets.append(rec.offset)
            produced.append(rec.timestamp)
        self.next_offset = records[-1].offset + 1
        self.dirty = True
        self.quiet_since = time.monotonic()
        if not rows:
            return
        offsets_arr = np.asarray(offsets, dtype=np.int64)
        sink = _Rejects()
        batch = canonicalize(_raw_frame(rows), source, offsets_arr, sink)
        for r in sink.items:
            ctx.dead_letter(r, *raw[r.line])
        if sink.items:
            keep = ~np.isin(offsets_arr, [r.line for r in sink.items])
            offsets_arr, produced_arr = offsets_arr[keep], np.asarray(produced, dtype=np.int64)[keep]
        else:
            produced_arr = np.asarray(produced, dtype=np.int64)
        hashed = pd.util.hash_pandas_object(batch["search_id"], index=False).to_numpy()
        fresh = ~pd.Series(hashed).duplicated().to_numpy() & ~np.isin(hashed, self.seen)
        if not fresh.all():
            ctx.metrics.duplicates.labels("1").inc(int((~fresh).sum()))
            batch, offsets_arr, produced_arr = batch.loc[fresh].reset_index(drop=True), offsets_arr[fresh], produced_arr[fresh]
        self.seen = np.union1d(self.seen, hashed[fresh])
        if batch.empty:
            return
        self.searches.append(batch)  # kept in the store like replay keeps them, for the dashboard
        # runs of non-decreasing time, so that rows leave in offset order (what dedup downstream relies on)
        t = ts_ns(batch["ts"])
        cuts = [0, *(np.flatnonzero(np.diff(t) < 0) + 1).tolist(), len(batch)]
        det = ctx.detector
        det.user_side = self.user_side
        for a, b in zip(cuts[:-1], cuts[1:]):
            out = det.user_stage(batch.iloc[a:b].reset_index(drop=True))
            pos = out.pop("input_pos").to_numpy()
            out[SOURCE] = offsets_arr[a:b][pos]
            out[PRODUCED] = produced_arr[a:b][pos]
            keys = out["circle"].where(out["circle"] != "", out["plate"].where(out["plate"] != "", out["agency"]))
            self.route_out(out, keys, ctx.partitions[ctx.topics.by_target])
            self.wm = max(self.wm, int(out["t"].max()))


class TargetTask(Task):
    """Stage 2: target-side features and scores of one partition of plates and circles."""

    stage = 2

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from detector.features import TargetSide

        self.target_side = TargetSide()
        self.merger = Merger(self.ctx.partitions[self.ctx.topics.searches])
        self.emitted = 0  # sequence number of the next flagged row sent downstream

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays, meta = self.merger.to_arrays()
        arrays.update({f"target.{k}": v for k, v in self.target_side.to_arrays().items()})
        return arrays, {"merge": meta, "emitted": self.emitted}

    def load(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        self.target_side.load_arrays({k.removeprefix("target."): v for k, v in arrays.items() if k.startswith("target.")})
        self.merger.load_arrays(arrays, meta["merge"])
        self.emitted = int(meta["emitted"])

    def watermark(self) -> tuple[int, bool]:
        bound = self.merger.bound()
        return bound, bound == END

    def process(self, records: list) -> None:
        ready = _merge(self, records)
        if ready is None:
            return
        det = self.ctx.detector
        det.target_side = self.target_side
        meta = ready[list(META)]
        ctx = det.target_stage(ready.drop(columns=list(META)))
        _, score, attr = det.score(ctx)
        flagged = score >= det.fusion.threshold
        self.ctx.metrics.searches.inc(len(ctx))
        quiet = ~flagged
        self.scores.append(pd.DataFrame({"search_id": ctx["search_id"].to_numpy()[quiet], "score": np.round(score[quiet], 2),
                                         "flagged": False, "alert_id": ""}))
        self.keep_produced("score", meta)
        if not flagged.any():
            return
        rows = ctx.loc[flagged].reset_index(drop=True)
        rows["score"] = score[flagged]
        for j, name in enumerate(ATTR):
            rows[name] = attr[flagged, j]
        rows[SOURCE] = np.arange(self.emitted, self.emitted + len(rows), dtype=np.int64)
        rows[PRODUCED] = meta[PRODUCED].to_numpy()[flagged]
        self.emitted += len(rows)
        self.route_out(rows, episode_keys(rows, attr[flagged]), self.ctx.partitions[self.ctx.topics.episodes])


class EpisodeTask(Task):
    """Stage 3: flagged searches grouped into alerts by one partition of episode keys."""

    stage = 3

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.alerter = Alerter()
        self.merger = Merger(self.ctx.partitions[self.ctx.topics.by_target])

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays, meta = self.merger.to_arrays()
        return arrays, {"merge": meta, "open": alerter_state(self.alerter)}

    def load(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        self.merger.load_arrays(arrays, meta["merge"])
        load_alerter(self.alerter, meta["open"])

    def process(self, records: list) -> None:
        ready = _merge(self, records)
        if ready is None:
            return
        score, attr = ready["score"].to_numpy(), ready[ATTR].to_numpy()
        ctx = ready.drop(columns=[*META, "score", *ATTR])
        alert_ids, touched = self.alerter.add(ctx, score, attr, self.ctx.detector.fusion.threshold)
        self.alerter.close_idle(int(ctx["t"].max()))
        for a in touched:
            self.alerts[a.alert_id] = a
        self.ctx.metrics.alerts.inc(len(touched))
        self.scores.append(pd.DataFrame({"search_id": ctx["search_id"].to_numpy(), "score": np.round(score, 2),
                                         "flagged": alert_ids != "", "alert_id": alert_ids.astype(str)}))
        self.keep_produced("alert", ready)


TASKS: dict[int, type[Task]] = {1: SearchTask, 2: TargetTask, 3: EpisodeTask}


def episode_keys(rows: pd.DataFrame, attr: np.ndarray) -> pd.Series:
    """The key ``Alerter.add`` will file each flagged row under, so one alert lives in one partition."""
    cols = {c: rows[c].to_numpy() for c in rows.columns}
    patterns = np.argmax(attr[:, PATTERN_COLUMNS], axis=1)
    return pd.Series([Alerter._key(SIGNALS[PATTERN_SIGNALS[int(p)]], cols, i) for i, p in enumerate(patterns)], dtype=str)


def _merge(task: TargetTask | EpisodeTask, records: list) -> pd.DataFrame | None:
    """Feed messages to the task's merger in log order; the rows they release, in order."""
    released = []
    stage = str(task.stage)
    for rec in records:
        try:
            pkt = decode_packet(rec.value)
        except (ValueError, KeyError, TypeError) as exc:
            task.ctx.dead_letter(Reject(f"{task.topic}/{task.partition}", rec.offset, "", f"not a stream packet: {exc}", ""),
                                 rec.key, rec.value)
            continue
        out, dups, late = task.merger.offer(pkt)
        if dups:
            task.ctx.metrics.duplicates.labels(stage).inc(dups)
        if late:
            task.ctx.metrics.late.labels(stage).inc(late)
        if out is not None:
            released.append(out)
    task.next_offset = records[-1].offset + 1
    task.dirty = True
    if not released:
        return None
    return released[0] if len(released) == 1 else pd.concat(released, ignore_index=True)


class _Rejects:
    def __init__(self) -> None:
        self.items: list[Reject] = []

    def add(self, rejects: list[Reject]) -> None:
        self.items.extend(rejects)


def _raw_frame(rows: list[dict]) -> pd.DataFrame:
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


# ----------------------------------------------------------------------------------
# The process


@dataclass
class StreamConfig:
    kafka: KafkaSettings
    topic: str
    group: str
    store_url: str
    reference: str | None = None
    policy: str = "auto"
    model: str | None = None
    exit_when_idle: float | None = None
    metrics_port: int | None = None
    commit_interval: float = 1.0  # seconds between checkpoints (longer when a checkpoint itself takes long)
    idle_grace: float = 2.0  # seconds a caught-up searches partition stays quiet before it holds nothing back
    partitions: int = 4  # for the input topic, when the stream has to create it
    poll_ms: int = 100
    max_poll_records: int = 5000
    log_interval: float = 10.0


@dataclass
class StreamSummary:
    records: int = 0
    scored: int = 0
    alert_updates: int = 0
    dead_letters: int = 0
    commits: int = 0

    def lines(self) -> list[str]:
        return [f"messages consumed: {self.records:,}  searches scored: {self.scored:,}  "
                f"alert updates: {self.alert_updates:,}  dead letters: {self.dead_letters:,}  checkpoints: {self.commits:,}"]


def build_detector(reference_dir: str | None, policy: str, model: str | None) -> Detector:
    """The detector a replay of the same reference, policy and model would build."""
    from streams.replay import home_state

    reference = load_reference(reference_dir)
    bundle = None
    if model is not None:
        from models.persist import load_model

        bundle = load_model(model)
    return Detector(reference, load_policy(policy, home_state(reference)), model=bundle)


class DeliveryError(Exception):
    """Kafka did not take a message of the batch; the batch must not be checkpointed."""


class Sender:
    """The producer plus the futures of what it sent since the last flush.

    ``flush`` raises if any of them failed, so a checkpoint never covers a message
    that did not reach Kafka.
    """

    def __init__(self, producer) -> None:
        self.producer = producer
        self.futures: list = []

    def send(self, topic: str, value: bytes | None, key: bytes | None = None, partition: int | None = None,
             headers: list | None = None) -> None:
        self.futures.append(self.producer.send(topic, value=value, key=key, partition=partition, headers=headers))

    def flush(self) -> None:
        self.producer.flush()
        failed = [f for f in self.futures if f.failed()]
        self.futures = []
        if failed:
            raise DeliveryError(f"{len(failed)} message(s) not delivered: {failed[0].exception!r}")

    def discard(self) -> None:
        self.futures = []


class _Listener(ConsumerRebalanceListener):
    """Rebalance callbacks; they run on kafka-python's IO thread, see ``Stream._in_poll``."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream

    def on_partitions_revoked(self, revoked) -> None:
        self.stream.revoke(list(revoked), lost=False)

    def on_partitions_assigned(self, assigned) -> None:
        self.stream.assign(list(assigned))

    def on_partitions_lost(self, lost) -> None:
        self.stream.revoke(list(lost), lost=True)


class Stream:
    """One instance: a consumer-group member running whichever tasks the group gives it."""

    def __init__(self, config: StreamConfig, metrics: StreamMetrics | None = None,
                 stop: threading.Event | None = None) -> None:
        self.config = config
        self.stop = stop or threading.Event()
        self.metrics = metrics or StreamMetrics(config.metrics_port)
        self.topics = Topics(config.topic)
        self.engine = store_mod.open_store(config.store_url)
        self.checkpoints = CheckpointStore(self.engine, config.group)
        self.summary = StreamSummary()
        self.tasks: dict[TopicPartition, Task] = {}
        self.parked: dict[TopicPartition, Task] = {}  # revoked with everything committed: reusable if given back
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self._in_poll = False
        self._joined = False  # the group has given this instance an assignment (maybe empty)
        self._next_commit = 0.0
        client = f"alpr-watch-{socket.gethostname()}-{os.getpid()}"
        counts = ensure_topics(config.kafka, {config.topic: config.partitions})
        n = counts[config.topic]
        t = self.topics
        counts.update(ensure_topics(config.kafka, {t.by_target: n, t.episodes: n, t.alerts: n, t.dlq: n}))
        self.partitions = counts
        self.stage = StageContext(build_detector(config.reference, config.policy, config.model), self.topics, counts,
                                  self.metrics, self._dead_letter, config.idle_grace)
        self.producer = config.kafka.producer(client)
        self.sender = Sender(self.producer)
        self.consumer = config.kafka.consumer(config.group, client)
        self.consumer.subscribe([t.searches, t.by_target, t.episodes], listener=_Listener(self))

    # -- rebalancing ------------------------------------------------------------

    def assign(self, assigned: list[TopicPartition]) -> None:
        """Seek each new partition to its checkpoint; its state loads on the main thread."""
        self._joined = True
        for tp in assigned:
            stored = self.checkpoints.next_offset(tp.topic, tp.partition)
            parked = self.parked.pop(tp, None) if self._in_poll else None
            if parked is not None and parked.committed == stored:
                self.tasks[tp] = parked
            else:
                self.events.put(("restore", tp))
            if stored is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, stored)
        if self._in_poll:
            self.parked.clear()

    def revoke(self, revoked: list[TopicPartition], lost: bool) -> None:
        """Commit what the revoked tasks did (unless the partitions are already lost) and park them.

        Only safe while the main thread waits in ``poll``; anywhere else the tasks are
        dropped and their uncommitted work is redone by the next owner.
        """
        if not self._in_poll:
            for tp in revoked:
                self.events.put(("drop", tp))
            return
        owned = [tp for tp in revoked if tp in self.tasks]
        if not lost:
            self._commit([self.tasks[tp] for tp in owned if self.tasks[tp].dirty])
        for tp in owned:
            task = self.tasks.pop(tp)
            if not lost and not task.dirty:
                self.parked[tp] = task

    def _apply_events(self) -> set[TopicPartition]:
        """Rebalance work queued by the callbacks; returns the partitions it touched (their polled records wait)."""
        skip = set()
        while True:
            try:
                kind, tp = self.events.get_nowait()
            except queue.Empty:
                return skip
            skip.add(tp)
            if kind == "drop":
                self.tasks.pop(tp, None)
                continue
            if tp not in self.consumer.assignment():
                continue
            self._restore(tp)

    def _restore(self, tp: TopicPartition) -> None:
        task = TASKS[self.topics.stage_of(tp.topic)](tp.topic, tp.partition, self.stage)
        loaded = self.checkpoints.load(tp.topic, tp.partition)
        if loaded is None:
            self.consumer.seek_to_beginning(tp)
            task.next_offset = self.consumer.position(tp)
        else:
            task.restore(*loaded)
            self.consumer.seek(tp, task.next_offset)
        self.tasks[tp] = task
        log.info("task %s/%d restored at offset %s", tp.topic, tp.partition, "beginning" if loaded is None else loaded[0])

    # -- the loop ---------------------------------------------------------------

    def run(self) -> StreamSummary:
        last_record = time.monotonic()
        try:
            while not self.stop.is_set():
                self._in_poll = True
                try:
                    polled = self.consumer.poll(timeout_ms=self.config.poll_ms, max_records=self.config.max_poll_records)
                finally:
                    self._in_poll = False
                started = time.monotonic()
                skip = self._apply_events()
                n = self._process({tp: recs for tp, recs in polled.items() if tp not in skip})
                self._emit()
                if n or skip or not self._joined:  # records, or a (re)assignment, or not yet in the group
                    last_record = time.monotonic()
                if n:
                    self.metrics.batch(time.monotonic() - started)
                if time.monotonic() >= self._next_commit:
                    self._commit([t for t in self.tasks.values() if t.dirty])
                self._lag()
                self.metrics.maybe_log(self.config.log_interval)
                if self.config.exit_when_idle is not None:
                    quiet = time.monotonic() - last_record
                    if quiet >= self.config.exit_when_idle and (self._drained() or quiet >= 10 * self.config.exit_when_idle):
                        log.info("no messages for %.0f s: stopping", quiet)
                        break
            self._commit([t for t in self.tasks.values() if t.dirty])
        finally:
            self._in_poll = True  # close() revokes from this thread: commit and leave the group cleanly
            try:
                self.consumer.close()
            finally:
                self._in_poll = False
                self.producer.close()
                self.engine.dispose()
        m = self.metrics
        self.summary.records = int(m.total(m.records))
        self.summary.scored = int(m.total(m.searches))
        self.summary.alert_updates = int(m.total(m.alerts))
        self.summary.dead_letters = int(m.total(m.dlq))
        return self.summary

    def _process(self, polled: dict) -> int:
        n = 0
        for tp in sorted(polled, key=lambda tp: (self.topics.stage_of(tp.topic), tp.partition)):
            task = self.tasks.get(tp)
            if task is None:
                continue
            records = [r for r in polled[tp] if r.offset >= task.next_offset]
            if records and records[0].offset > task.next_offset:  # fetched ahead of a seek: read again
                self.consumer.seek(tp, task.next_offset)
                continue
            if not records:
                continue
            n += len(records)
            self.metrics.records.labels(str(task.stage)).inc(len(records))
            task.process(records)
        for tp, task in self.tasks.items():
            if isinstance(task, SearchTask):
                hw = self.consumer.highwater(tp)
                task.caught_up = hw is not None and task.next_offset >= hw
        return n

    def _emit(self) -> None:
        """Send each stage-1 and stage-2 task's rows and, where it changed, its watermark downstream."""
        for tp, task in self.tasks.items():
            if task.stage == 3:
                continue
            dest = self.topics.by_target if task.stage == 1 else self.topics.episodes
            wm, idle = task.watermark()
            for p in range(self.partitions[dest]):
                parts = task.outbox.pop(p, [])
                if not parts and task.sent.get(p) == (wm, idle):
                    continue
                rows = (parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)) if parts else None
                for value in packets(tp.partition, rows, wm, idle):
                    self.sender.send(dest, value=value, key=str(tp.partition).encode(), partition=p)
                task.sent[p] = (wm, idle)

    def _commit(self, tasks: list[Task]) -> None:
        if not tasks:
            return
        started = time.monotonic()
        entries = [t.checkpoint() for t in tasks]
        by_key = {(t.topic, t.partition): t for t in tasks}
        try:
            conflicts = self.checkpoints.commit(entries, self._send_alerts, self.sender.flush)
        except DeliveryError as exc:
            log.error("%s; going back to the last checkpoint", exc)
            self._rewind()
            return
        failed = {(e.topic, e.partition) for e in conflicts}
        produced: dict[str, list[np.ndarray]] = {}
        offsets = {}
        for key, task in by_key.items():
            tp = TopicPartition(*key)
            if key in failed:
                self.metrics.conflicts.inc()
                self.tasks.pop(tp, None)
                self.events.put(("restore", tp))
                continue
            for kind, values in task.produced.items():
                produced.setdefault(kind, []).extend(values)
            task.mark_committed()
            offsets[tp] = OffsetAndMetadata(task.next_offset, "", -1)
        self.metrics.committed({k: np.concatenate(v) for k, v in produced.items()})
        if offsets and not self._in_poll:
            self.consumer.commit_async(offsets)  # lag monitoring only: positions come from the store
        elapsed = time.monotonic() - started
        self.summary.commits += 1
        self.metrics.commit_seconds.observe(elapsed)
        self.metrics.state_bytes.set(sum(len(e.state) for e in entries))
        # a checkpoint rewrites the whole state: space them so that they take at most a quarter of the time
        self._next_commit = time.monotonic() + max(self.config.commit_interval, 3 * elapsed)

    def _rewind(self) -> None:
        """Forget everything since the last checkpoint, as a crash and restart would."""
        self.sender.discard()
        for tp in list(self.tasks):
            self.tasks.pop(tp)
            self.events.put(("restore", tp))
        self._next_commit = time.monotonic() + self.config.commit_interval

    def _send_alerts(self, records: list[dict]) -> None:
        for r in records:
            self.sender.send(self.topics.alerts, value=json.dumps(r, ensure_ascii=False).encode(), key=r["alert_id"].encode())

    def _dead_letter(self, reject: Reject, key: bytes | None, value: bytes | None) -> None:
        """The original bytes to ``<topic>.dlq``, with why in the headers (never in the log)."""
        headers = [("dlq.reason", reject.reason.encode()), ("dlq.field", reject.field.encode()),
                   ("dlq.source", reject.source.encode()), ("dlq.offset", str(reject.line).encode())]
        self.sender.send(self.topics.dlq, value=value, key=key, headers=headers)
        self.metrics.dlq.labels(reject.field or "message").inc()

    def _drained(self) -> bool:
        """Nothing left in flight: searches partitions idle, merges empty, everything committed."""
        for task in self.tasks.values():
            if task.dirty or task.outbox:
                return False
            if isinstance(task, SearchTask) and not task.watermark()[1]:
                return False
            if isinstance(task, (TargetTask, EpisodeTask)) and not task.merger.empty:
                return False
        return True

    def _lag(self) -> None:
        for stage in (1, 2, 3):
            self.metrics.tasks.labels(str(stage)).set(sum(1 for t in self.tasks.values() if t.stage == stage))
        for tp, task in self.tasks.items():
            hw = self.consumer.highwater(tp)
            if hw is not None:
                self.metrics.lag.labels(tp.topic, str(tp.partition)).set(max(0, hw - task.next_offset))


def run_stream(config: StreamConfig, metrics: StreamMetrics | None = None,
               stop: threading.Event | None = None) -> StreamSummary:
    """Run one stream instance until ``stop`` is set or, with ``exit_when_idle``, it runs dry."""
    return Stream(config, metrics, stop).run()
