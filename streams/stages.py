"""The three stages of the stream: their tasks (one per partition) and what one poll does to them.

1. ``<topic>`` (keyed by agency): ``Detector.user_features`` with the partition's
   ``UserSide``; the featured context rows go to ``<topic>.by-target``, routed by
   the plate (else the agency).
2. ``<topic>.by-target``: ``target_stage`` and ``score`` with the partition's
   ``TargetSide``; scores go to the store and flagged searches to
   ``<topic>.episodes``, routed by episode key (``Alerter._key``).
3. ``<topic>.episodes``: a per-partition ``Alerter`` groups them into alerts, which
   go to the store and to ``<topic>.alerts``.

Stages 2 and 3 release rows in event-time order through a ``Merger`` per task
(``streams.merge``), which is what makes a stream over any number of partitions and
instances compute what a replay computes.

What costs the same whatever the number of rows (pandas builds a frame column by
column) is paid once per poll and stage, not once per task: stage 1 decodes,
validates and derives the stateless context of every task's messages together and
only the feature state runs per task; stage 2 scores every task's rows in one call.
At a thousand searches a second that fixed cost is what a poll is made of.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
import pyarrow as pa

from detector.alerts import PATTERN_COLUMNS, Alert, Alerter
from detector.engine import Detector, EntityKeys, with_columns
from detector.features import USER_FEATURES
from detector.rules import PATTERN_SIGNALS, SIGNALS
from detector.schema import ts_ns
from detector.state import Keys
from detector.validate import Reject, canonicalize
from streams.checkpoint import TaskCheckpoint, alerter_state, decode_state, load_alerter
from streams.decode import decode_searches
from streams.kafka_io import Topics, route
from streams.merge import END, META, NO_WM, PRODUCED, SOURCE, Merger, column, decode_packet
from streams.metrics import StreamMetrics
from streams.seen import SeenIds

ATTR = [f"attr.{name}" for name in SIGNALS]
# A search dated this long after its message was produced is a mistyped date (2205 for 2025):
# taken, it would move its partition's watermark centuries ahead. Lenient, so that a test set
# dated somewhat ahead of the clock that produces it still passes
MAX_AHEAD_NS = 366 * 86_400 * 10**9
CLOCK_SINCE_MS = 946_684_800_000  # 2000-01-01 UTC
# The context columns ``Detector.user_features`` and ``Detector.target_stage`` read, and the
# column user_features adds besides the features (the person each search is filed under)
USER_INPUTS = ("t", "located", "covered", "test_reason", "plate_lookup", "has_case", "log_net", "far", "linked")
USER_OUTPUTS = ("person", *USER_FEATURES)
TARGET_INPUTS = ("t", "plate", "user_key", "agency", "covered", "hotlist_search")


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
    outbox: dict[int, list[pa.Table]] = field(default_factory=dict)
    sent: dict[int, tuple[int, bool]] = field(default_factory=dict)
    searches: list[tuple[pd.DataFrame, int, int]] = field(default_factory=list)  # rows a:b of canonical batches nothing changes
    scores: list[tuple[np.ndarray, ...]] = field(default_factory=list)  # (search_id, score, flagged, alert_id)
    alerts: dict[str, Alert] = field(default_factory=dict)
    produced: dict[str, list[np.ndarray]] = field(default_factory=dict)

    stage = 0

    def checkpoint(self) -> TaskCheckpoint:
        """The task's state and the outputs it made since the last checkpoint; later work starts afresh."""
        arrays, meta = self.state()
        entry = TaskCheckpoint(self.topic, self.partition, self.committed, self.next_offset, arrays, meta,
                               searches=self.searches, scores=self.scores, alerts=[a.to_record() for a in self.alerts.values()])
        self.searches, self.scores, self.alerts = [], [], {}
        self.dirty = False
        return entry

    def restore(self, next_offset: int, blob: bytes | None) -> None:
        self.next_offset = self.committed = next_offset
        if blob:
            self.load(*decode_state(blob))

    def consumed(self, records: list) -> None:
        self.next_offset = records[-1].offset + 1
        self.dirty = True

    def add_scores(self, ids: np.ndarray, score: np.ndarray, flagged: np.ndarray, alert_ids: np.ndarray | None = None) -> None:
        """Scores for the store, rounded as replay writes them; alert ids '' where there is none.

        The arrays go to the checkpoint thread as they are: nothing may change them later.
        """
        self.scores.append((ids, np.round(score, 2), flagged, np.full(len(ids), "", dtype=object) if alert_ids is None
                            else alert_ids.astype(object)))

    def keep_produced(self, kind: str, produced_ms: np.ndarray) -> None:
        self.produced.setdefault(kind, []).append(produced_ms)

    def send(self, rows: pa.Table, dest: np.ndarray) -> None:
        """Queue ``rows`` for the downstream partitions ``dest`` (one per row), each partition's in their order."""
        order = np.argsort(dest, kind="stable")
        grouped = rows.take(order)
        parts, starts = np.unique(dest[order], return_index=True)
        for p, a, b in zip(parts.tolist(), starts.tolist(), [*starts[1:].tolist(), len(order)]):
            self.outbox.setdefault(p, []).append(grouped.slice(a, b - a))

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        """The state as arrays that later processing does not change (copies, or arrays it replaces)."""
        raise NotImplementedError

    def load(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
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
        self.seen = SeenIds()  # the replay's Deduplicator, per partition
        self.wm = NO_WM
        self.caught_up = False
        self.quiet_since = time.monotonic()

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays = {f"user.{k}": v for k, v in self.user_side.to_arrays().items()}
        arrays["seen"], arrays["seen_t"] = self.seen.arrays()
        return arrays, {"wm": self.wm}

    def load(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        self.user_side.load_arrays({k.removeprefix("user."): v for k, v in arrays.items() if k.startswith("user.")})
        self.wm = int(meta["wm"])
        # a checkpoint from before the times: its ids are taken as seen at its watermark
        times = arrays["seen_t"] if "seen_t" in arrays else np.full(len(arrays["seen"]), self.wm, dtype=np.int64)
        self.seen = SeenIds(arrays["seen"], times)

    def watermark(self) -> tuple[int, bool]:
        idle = self.caught_up and time.monotonic() - self.quiet_since >= self.ctx.idle_grace
        return self.wm, idle

    def consumed(self, records: list) -> None:
        super().consumed(records)
        self.quiet_since = time.monotonic()

    def first_sightings(self, hashed: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Which of these hashed search ids (of searches run at ``t``) are new (first in the batch, never
        seen before); remembers them until the user side forgets what went idle before they ran
        (``FORGET_DAYS`` before its latest searches): a search delivered again that much later
        counts once more."""
        return self.seen.first_sightings(hashed, t, self.user_side.forgot_before)


class TargetTask(Task):
    """Stage 2: target-side features and scores of one partition of plates."""

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


class EpisodeTask(Task):
    """Stage 3: flagged searches grouped into alerts by one partition of episode keys."""

    stage = 3

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.alerter = Alerter(self.ctx.detector.fusion.open_threshold)
        self.merger = Merger(self.ctx.partitions[self.ctx.topics.by_target])

    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        arrays, meta = self.merger.to_arrays()
        return arrays, {"merge": meta, "open": alerter_state(self.alerter)}

    def load(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        self.merger.load_arrays(arrays, meta["merge"])
        load_alerter(self.alerter, meta["open"])


TASKS: dict[int, type[Task]] = {1: SearchTask, 2: TargetTask, 3: EpisodeTask}


# ----------------------------------------------------------------------------------
# The stages: each takes the records one poll brought for its tasks


def process_searches(work: list[tuple[SearchTask, list]], ctx: StageContext) -> None:
    """Stage 1: decode, validate, dedup, then the user-side features of each task's new searches."""
    messages = [(task, rec) for task, records in work for rec in records]
    for task, records in work:
        task.consumed(records)
    owner = np.repeat(np.arange(len(work)), [len(records) for _, records in work])

    def reject(i: int, name: str, reason: str, raw: str = "") -> None:
        task, rec = messages[i]
        ctx.dead_letter(Reject(f"{task.topic}/{task.partition}", rec.offset, name, reason, raw), rec.key, rec.value)

    raw, undecodable = decode_searches([rec.value for _, rec in messages])
    for i, reason in undecodable:
        reject(i, "", reason)
    rows = np.delete(np.arange(len(messages)), [i for i, _ in undecodable])  # the message of each raw row
    if not len(rows):
        return
    sink = _Rejects()
    batch = canonicalize(raw, "stream", rows, sink)
    for r in sink.items:
        reject(r.line, r.field, r.reason, r.raw)
    if sink.items:
        rows = rows[~np.isin(rows, [r.line for r in sink.items])]
    t = ts_ns(batch["ts"])
    produced = np.fromiter((messages[i][1].timestamp for i in rows), np.int64, len(rows))  # ms; -1 where unknown
    # a producer whose clock says before 2000 has none worth judging by (CreateTime left at 0)
    ahead = (produced >= CLOCK_SINCE_MS) & (t > produced * 1_000_000 + MAX_AHEAD_NS)
    if ahead.any():
        for k in np.flatnonzero(ahead):
            when = pd.Timestamp(int(produced[k]), unit="ms", tz="UTC").isoformat()
            reject(int(rows[k]), "ts", f"more than a year after the message was produced ({when})", str(batch["ts"].iloc[k]))
        batch, rows, t = batch.loc[~ahead].reset_index(drop=True), rows[~ahead], t[~ahead]
        if batch.empty:
            return
    hashed = pd.util.hash_pandas_object(batch["search_id"], index=False).to_numpy()
    fresh = np.zeros(len(rows), dtype=bool)
    for k, (task, _) in enumerate(work):
        mine = np.flatnonzero(owner[rows] == k)
        if len(mine):
            fresh[mine] = task.first_sightings(hashed[mine], t[mine])
    if not fresh.all():
        ctx.metrics.duplicates.labels("1").inc(int((~fresh).sum()))
        batch, rows = batch.loc[fresh].reset_index(drop=True), rows[fresh]
    if batch.empty:
        return
    _user_features(work, ctx, batch, rows, owner[rows], messages)


def _user_features(work: list[tuple[SearchTask, list]], ctx: StageContext, batch: pd.DataFrame, rows: np.ndarray,
                   owner: np.ndarray, messages: list) -> None:
    """``Detector.user_features`` of each task's rows, with the stateless context derived once for all of them.

    Each task's call gets only the context it reads (``USER_INPUTS``), and the rows
    for ``<topic>.by-target`` go to Arrow straight from the columns: building a frame
    of every column per task, concatenating and converting it would cost more than
    the features at a few hundred searches a poll.

    Rows stay in offset order, which is what dedup downstream relies on (a replay's
    input is in time order anyway, and so is a producer's partition as ``produce``
    writes it); rows of one task are contiguous.
    """
    det = ctx.detector
    context, keys = det.context(batch)
    t = np.asarray(context["t"])
    cuts = np.flatnonzero(np.diff(owner)) + 1
    runs = list(zip([0, *cuts.tolist()], [*cuts.tolist(), len(batch)]))
    parts = []
    for a, b in runs:
        det.user_side = work[owner[a]][0].user_side
        parts.append(det.user_features({name: context[name][a:b] for name in USER_INPUTS}, _key_rows(keys, a, b)))
    out = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    columns = {**context, **{name: out[name].array for name in USER_OUTPUTS}}
    columns[SOURCE] = np.fromiter((messages[i][1].offset for i in rows), np.int64, len(rows))
    columns[PRODUCED] = np.fromiter((messages[i][1].timestamp for i in rows), np.int64, len(rows))
    plate = pd.Series(columns["plate"], copy=False)
    dest = route(plate.where(plate != "", pd.Series(columns["agency"], copy=False)), ctx.partitions[ctx.topics.by_target])
    table = _arrow(columns)
    for a, b in runs:
        task = work[owner[a]][0]
        task.searches.append((batch, a, b))  # kept in the store like replay keeps them, for the dashboard
        task.send(table.slice(a, b - a), dest[a:b])
        task.wm = max(task.wm, int(t[a:b].max()))


def _key_rows(keys: EntityKeys, a: int, b: int) -> EntityKeys:
    """The entity keys of rows ``a:b``, values in order of first appearance there, as ``context`` of those rows gives."""
    def rows(k: Keys) -> Keys:
        codes, firsts = pd.factorize(k.codes[a:b], sort=False)
        return Keys(codes, [k.values[j] for j in firsts.tolist()])

    return EntityKeys(**{f.name: rows(getattr(keys, f.name)) for f in fields(keys)})


def process_targets(work: list[tuple[TargetTask, list]], ctx: StageContext) -> None:
    """Stage 2: each task's released rows through its target-side features, then all of them scored at once.

    Each task's ``target_stage`` gets only the columns it reads (``TARGET_INPUTS``);
    its features are joined to the rows once for all tasks.
    """
    released = _released(work)
    if released is None:
        return
    spans, rows, meta = released
    det = ctx.detector
    inputs = rows[list(TARGET_INPUTS)]
    features = []
    for task, span in spans:
        det.target_side = task.target_side
        features.append(det.target_stage(inputs if len(spans) == 1 else inputs.iloc[span]))
    added = features[0] if len(features) == 1 else pd.concat(features, ignore_index=True)
    frame = with_columns(rows, {name: added[name].to_numpy() for name in added.columns if name not in TARGET_INPUTS})
    _, score, attr = det.score(frame)
    flagged = score >= det.fusion.threshold
    ctx.metrics.searches.inc(len(frame))
    ids = frame["search_id"].to_numpy()
    source = np.zeros(len(frame), dtype=np.int64)  # per task, a sequence number for each flagged row
    for task, span in spans:
        quiet, hits = ~flagged[span], np.flatnonzero(flagged[span])
        task.add_scores(ids[span][quiet], score[span][quiet], np.zeros(len(quiet) - len(hits), dtype=bool))
        task.keep_produced("score", meta[PRODUCED][span])
        source[span.start + hits] = np.arange(task.emitted, task.emitted + len(hits))
        task.emitted += len(hits)
    if not flagged.any():
        return
    at = np.flatnonzero(flagged)
    out = pd.concat([frame.iloc[at].reset_index(drop=True),
                     pd.DataFrame({"score": score[at], **dict(zip(ATTR, attr[at].T)), SOURCE: source[at],
                                   PRODUCED: meta[PRODUCED][at]})], axis=1)
    dest = route(episode_keys(out, attr[at]), ctx.partitions[ctx.topics.episodes])
    table = _arrow({name: out[name].array for name in out.columns})
    for task, span in spans:
        a, b = np.searchsorted(at, [span.start, span.stop])
        if b > a:
            task.send(table.slice(a, b - a), dest[a:b])


def process_episodes(work: list[tuple[EpisodeTask, list]], ctx: StageContext) -> None:
    """Stage 3: each task's released flagged rows into its open alerts."""
    released = _released(work, [*META, "score", *ATTR])
    if released is None:
        return
    spans, rows, meta = released
    threshold = ctx.detector.fusion.threshold
    attr = np.column_stack([meta[name] for name in ATTR])
    for task, span in spans:
        mine = rows if len(spans) == 1 else rows.iloc[span]
        alert_ids, touched, late = task.alerter.add(mine, meta["score"][span], attr[span], threshold)
        task.alerter.close_idle(int(mine["t"].max()))
        for a in touched:
            task.alerts[a.alert_id] = a
        ctx.metrics.alerts.inc(len(touched))
        task.add_scores(mine["search_id"].to_numpy(), meta["score"][span], alert_ids != "", alert_ids)
        if len(late):  # held searches of earlier polls, now in an alert: their stored rows are replaced
            task.add_scores(late["search_id"].to_numpy(dtype=object), late["score"].to_numpy(), late["flagged"].to_numpy(),
                            late["alert_id"].to_numpy(dtype=object))
        task.keep_produced("alert", meta[PRODUCED][span])


STAGES: dict[int, Callable[[list, StageContext], None]] = {1: process_searches, 2: process_targets, 3: process_episodes}


def episode_keys(rows: pd.DataFrame, attr: np.ndarray) -> pd.Series:
    """The key ``Alerter.add`` will file each flagged row under, so one alert lives in one partition."""
    cols = {c: rows[c].to_numpy() for c in rows.columns}
    patterns = np.argmax(attr[:, PATTERN_COLUMNS], axis=1)
    return pd.Series([Alerter._key(SIGNALS[PATTERN_SIGNALS[int(p)]], cols, i) for i, p in enumerate(patterns)], dtype=str)


def _released(work: list[tuple[TargetTask | EpisodeTask, list]], apart: tuple | list = META,
              ) -> tuple[list[tuple[Task, slice]], pd.DataFrame, dict[str, np.ndarray]] | None:
    """What the tasks' mergers release from this poll's messages, converted to pandas once for all of them.

    Returns each task with the rows that are its own (one after the other), the rows
    without the columns ``apart``, and those columns as arrays.
    """
    parts = [(task, rows) for task, records in work if (rows := _merge(task, records)) is not None]
    if not parts:
        return None
    table = parts[0][1] if len(parts) == 1 else pa.concat_tables([rows for _, rows in parts])
    spans, start = [], 0
    for task, rows in parts:
        spans.append((task, slice(start, start + rows.num_rows)))
        start += rows.num_rows
    return spans, table.drop_columns(list(apart)).to_pandas(), {name: column(table, name) for name in apart}


def _merge(task: TargetTask | EpisodeTask, records: list) -> pa.Table | None:
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
    task.consumed(records)
    if not released:
        return None
    return released[0] if len(released) == 1 else pa.concat_tables(released)


def _arrow(columns: dict[str, object]) -> pa.Table:
    """Rows for a repartition message, from numpy or pandas arrays (pandas' strings hand over their Arrow data).

    What ``pa.Table.from_pandas`` makes of a frame of these columns (NaN as null,
    strings as pandas holds them), without its per-column inference, which costs
    more than the features at a few hundred searches a poll.
    """
    return pa.table({name: pa.array(np.asarray(values) if isinstance(values, pd.arrays.NumpyExtensionArray) else values,
                                    from_pandas=True) for name, values in columns.items()})


class _Rejects:
    def __init__(self) -> None:
        self.items: list[Reject] = []

    def add(self, rejects: list[Reject]) -> None:
        self.items.extend(rejects)
