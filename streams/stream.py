"""The stream: searches from Kafka through the replay's Detector, partitioned in three stages.

Kafka Streams style: every partition of every stage topic is a task with its own
state (``streams.stages``), and one consumer group spreads the tasks over the running
instances. This module is one instance: the consumer-group member that polls, hands
each poll's records to the stages, sends what they produce downstream (to its own
downstream tasks at once, where the log allows: ``Stream._forward``), and
checkpoints the tasks' state with their outputs in the store (``streams.checkpoint``)
on a thread of its own, so that the next batches are processed meanwhile.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import queue
import socket
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import sqlalchemy as sa
from kafka import TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaTimeoutError
from kafka.producer.future import FutureRecordMetadata
from kafka.structs import OffsetAndMetadata

from detector import store as store_mod
from detector.engine import Detector
from detector.policy import load_policy
from detector.reference import load_reference
from detector.scoring import Fusion
from detector.suppress import Suppressions, record_file_rules, stored_rules
from detector.validate import InputError, Reject
from streams.checkpoint import CheckpointStore, TaskCheckpoint
from streams.kafka_io import KafkaSettings, Topics, ensure_topics
from streams.merge import packets
from streams.metrics import StreamMetrics
from streams.stages import STAGES, TASKS, EpisodeTask, SearchTask, StageContext, Task, TargetTask

log = logging.getLogger(__name__)

# seconds to wait for Kafka to acknowledge what a poll sent before handing it to this instance's own tasks;
# longer would hold up polling (and the group's liveness checks) through a broker outage
FORWARD_WAIT = 1.0


@dataclass
class StreamConfig:
    kafka: KafkaSettings
    topic: str
    group: str
    store_url: str
    reference: str | None = None
    policy: str = "auto"
    model: str | None = None
    fusion: Fusion | None = None  # with the signal weights learned from reviewers (alpr-watch feedback)
    suppressions: Suppressions | None = None  # reviewers' suppression rules (detector.suppress), as replay's
    exit_when_idle: float | None = None
    metrics_port: int | None = None
    commit_interval: float = 1.0  # seconds between checkpoints while busy (longer when encoding the state takes long; at once in a pause)
    idle_grace: float = 2.0  # seconds a caught-up searches partition stays quiet before it holds nothing back
    partitions: int = 4  # for the input topic, when the stream has to create it
    poll_ms: int = 100
    max_poll_records: int = 20_000  # a poll's fixed cost is several thousand searches' worth: catch up in large batches
    log_interval: float = 10.0
    rules_interval: float = 30.0  # seconds between readings of the suppression rules supervisors keep in the store


@dataclass
class StreamSummary:
    records: int = 0
    scored: int = 0
    alert_updates: int = 0
    dead_letters: int = 0
    commits: int = 0
    suppressions: list[str] = field(default_factory=list)  # what each suppression rule silenced in this instance

    def lines(self) -> list[str]:
        return [f"messages consumed: {self.records:,}  searches scored: {self.scored:,}  "
                f"alert updates: {self.alert_updates:,}  dead letters: {self.dead_letters:,}  checkpoints: {self.commits:,}",
                *self.suppressions]


def build_detector(reference_dir: str | None, policy: str, model: str | None, fusion: Fusion | None = None,
                   suppressions: Suppressions | None = None) -> Detector:
    """The detector a replay of the same reference, policy, model, fusion and suppression rules would build."""
    from streams.replay import home_state

    reference = load_reference(reference_dir)
    bundle = None
    if model is not None:
        from models.persist import load_model

        bundle = load_model(model)
    return Detector(reference, load_policy(policy, home_state(reference)), fusion=fusion, model=bundle,
                    suppressions=suppressions)


class _Delivered(NamedTuple):
    """A message this instance sent to a partition it also consumes, as a fetch would bring it."""

    offset: int
    key: bytes
    value: bytes


def next_in_log(next_offset: int, messages: list[tuple[FutureRecordMetadata, bytes, bytes]]) -> list[_Delivered]:
    """The leading ``messages`` (future, key, value; in send order) that Kafka put at ``next_offset`` and on, one after the other.

    A message that failed, is not acknowledged yet, or landed elsewhere (another
    instance wrote to the partition in between) ends the run: from there on the
    consumer brings the partition's records in log order.
    """
    records: list[_Delivered] = []
    for future, key, value in messages:
        if not future.succeeded() or future.value.offset != next_offset + len(records):
            break
        records.append(_Delivered(future.value.offset, key, value))
    return records


class DeliveryError(Exception):
    """Kafka did not take a message of the batch; the batch must not be checkpointed."""


class Sender:
    """The producer plus the futures of what it sent since the last checkpoint began.

    ``flush`` raises if any of a checkpoint's futures failed, so a checkpoint never
    covers a message that did not reach Kafka.
    """

    def __init__(self, producer) -> None:
        self.producer = producer
        self.futures: list = []

    def send(self, topic: str, value: bytes | None, key: bytes | None = None, partition: int | None = None,
             headers: list | None = None) -> FutureRecordMetadata:
        future = self.producer.send(topic, value=value, key=key, partition=partition, headers=headers)
        self.futures.append(future)
        return future

    def take(self) -> list:
        """The futures of everything sent so far, for the checkpoint that covers it."""
        futures, self.futures = self.futures, []
        return futures

    def flush(self, futures: list) -> None:
        """Wait until Kafka has taken everything sent; safe while other threads send."""
        self.producer.flush()
        failed = [f for f in futures if f.failed()]
        if failed:
            raise DeliveryError(f"{len(failed)} message(s) not delivered: {failed[0].exception!r}")

    def discard(self) -> None:
        self.futures = []


@dataclass
class _Checkpoint:
    """A checkpoint on its way to the store: its tasks, what they hand in, and the job writing it."""

    tasks: list[Task]
    entries: list[TaskCheckpoint]
    started: float
    job: Future


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
        self._next_commit = 0.0  # the next checkpoint while messages keep coming; when they pause, at once
        self._encoded_by = 0.0  # no checkpoint before this: encoding the state takes at most half the time
        self._backlog = 0  # input messages waiting in Kafka after the last poll
        self._inflight: _Checkpoint | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        client = f"alpr-watch-{socket.gethostname()}-{os.getpid()}"
        counts = ensure_topics(config.kafka, {config.topic: config.partitions})
        n = counts[config.topic]
        t = self.topics
        counts.update(ensure_topics(config.kafka, {t.by_target: n, t.episodes: n, t.alerts: n, t.dlq: n}))
        self.partitions = counts
        self.stage = StageContext(build_detector(config.reference, config.policy, config.model, config.fusion,
                                                  config.suppressions), self.topics, counts,
                                  self.metrics, self._dead_letter, config.idle_grace)
        self._next_rules = 0.0  # the next reading of the store's suppression rules
        self._take_up_rules()  # a broken store or a clashing id stops the start here
        with self.engine.begin() as conn:  # the file's rules, for the dashboard to list
            record_file_rules(conn, self.stage.detector.suppressions)
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
        self._settle(wait=True)
        owned = [tp for tp in revoked if tp in self.tasks]
        if not lost:
            self._checkpoint([self.tasks[tp] for tp in owned if self.tasks[tp].dirty])
            self._settle(wait=True)
            owned = [tp for tp in owned if tp in self.tasks]
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
        # The detector's reference data, the libraries and their caches are a quarter of a million
        # objects that live as long as the process: a full garbage collection walking them all stops
        # every thread for 150 to 300 ms every few seconds. Frozen, collections look at new objects only.
        gc.collect()
        gc.freeze()
        try:
            while not self.stop.is_set():
                polled = self._poll()
                started = time.monotonic()
                skip = self._apply_events()
                n = self._process({tp: recs for tp, recs in polled.items() if tp not in skip})
                n += self._forward()
                if n or skip or not self._joined:  # records, or a (re)assignment, or not yet in the group
                    last_record = time.monotonic()
                if n:
                    self.metrics.batch(time.monotonic() - started)
                self._settle()
                # catching up (more input waiting than a batch takes): the checkpoint thread is what
                # limits the pace then, so keep it busy
                behind = self._backlog >= self.config.max_poll_records
                now = time.monotonic()
                if not (n or skip) or (behind or now >= self._next_commit) and now >= self._encoded_by:
                    self._checkpoint([t for t in self.tasks.values() if t.dirty])
                self._lag()
                if now >= self._next_rules:
                    self._refresh_rules()
                self.metrics.maybe_log(self.config.log_interval)
                if self.config.exit_when_idle is not None:
                    quiet = time.monotonic() - last_record
                    if quiet >= self.config.exit_when_idle and (self._drained() or quiet >= 10 * self.config.exit_when_idle):
                        log.info("no messages for %.0f s: stopping", quiet)
                        break
            self._settle(wait=True)
            self._checkpoint([t for t in self.tasks.values() if t.dirty])
            self._settle(wait=True)
        finally:
            self._in_poll = True  # close() revokes from this thread: commit and leave the group cleanly
            try:
                self.consumer.close()
                log.info("left consumer group %s", self.config.group)
            finally:
                self._in_poll = False
                self._writer.shutdown(wait=True)
                self.producer.close()
                self.engine.dispose()
                gc.unfreeze()
        m = self.metrics
        self.summary.records = int(m.total(m.records))
        self.summary.scored = int(m.total(m.searches))
        self.summary.alert_updates = int(m.total(m.alerts))
        self.summary.dead_letters = int(m.total(m.dlq))
        self.summary.suppressions = self.stage.detector.suppressions.lines()
        return self.summary

    def _take_up_rules(self) -> None:
        """The suppression rules supervisors keep in the store, as they are now: those written or
        revoked in the dashboard since the last reading take effect from the next batch."""
        with self.engine.connect() as conn:
            came, went = self.stage.detector.suppressions.take_stored(stored_rules(conn))
        if came or went:
            log.info("suppression rules read from the store: %d (%d new or changed, %d gone or changed)",
                     len(self.stage.detector.suppressions.stored), came, went)
        self._next_rules = time.monotonic() + self.config.rules_interval

    def _refresh_rules(self) -> None:
        """``_take_up_rules`` while running: a store that cannot be read now, or a rule that cannot
        be taken, leaves the rules in force as they were and is tried again later."""
        try:
            self._take_up_rules()
        except (InputError, sa.exc.SQLAlchemyError) as exc:
            log.warning("suppression rules not re-read from the store (the rules in force stay): %s", exc)
            self._next_rules = time.monotonic() + self.config.rules_interval

    def _poll(self) -> dict[TopicPartition, list]:
        """The records fetched so far, and whatever a fetch sent now adds to them.

        kafka-python sends the next fetch as ``poll`` returns, so its answer waits in
        the client while the batch is processed, holding only what had arrived by
        then: on its own, a search that arrives during a batch would wait for the
        batch after next. One more round trip brings everything up to now.
        """
        limit = self.config.max_poll_records
        self._in_poll = True
        try:
            polled = self.consumer.poll(timeout_ms=self.config.poll_ms, max_records=limit)
            n = sum(map(len, polled.values()))
            if polled and n < limit:
                for tp, records in self.consumer.poll(timeout_ms=self.config.poll_ms, max_records=limit - n).items():
                    head = polled.get(tp)
                    # a rebalance in between may have moved the partition back: then the newer records count
                    polled[tp] = head + records if head and records[0].offset > head[-1].offset else records
            return polled
        finally:
            self._in_poll = False

    def _process(self, polled: dict) -> int:
        """The polled records each task has not seen yet, through the stages."""
        batches = {}
        for tp, recs in polled.items():
            task = self.tasks.get(tp)
            if task is None:
                continue
            records = [r for r in recs if r.offset >= task.next_offset]
            if records and records[0].offset > task.next_offset:  # fetched ahead of a seek: read again
                self.consumer.seek(tp, task.next_offset)
                continue
            if records:
                batches[tp] = records
        n = self._run(batches)
        self._backlog = 0
        for tp, task in self.tasks.items():
            if isinstance(task, SearchTask):
                hw = self.consumer.highwater(tp)
                task.caught_up = hw is not None and task.next_offset >= hw
                self._backlog += max(0, hw - task.next_offset) if hw is not None else 0
        return n

    def _run(self, batches: dict[TopicPartition, list]) -> int:
        """Each task's records (the next ones of its partition), stage by stage; returns how many."""
        n = 0
        work: dict[int, list[tuple[Task, list]]] = {stage: [] for stage in STAGES}
        for tp in sorted(batches, key=lambda tp: (self.topics.stage_of(tp.topic), tp.partition)):
            task, records = self.tasks[tp], batches[tp]
            n += len(records)
            self.metrics.records.labels(str(task.stage)).inc(len(records))
            work[task.stage].append((task, records))
        for stage, tasks in work.items():
            if tasks:
                STAGES[stage](tasks, self.stage)
        return n

    def _forward(self) -> int:
        """Send what stages 1 and 2 produced; what lands next in a partition this instance runs goes to its task at once.

        Without this a search waits for two more fetch rounds (one per hop) before
        its alert exists. Kafka must have acknowledged a message first: its offset
        then tells whether it is the very record the task would fetch next (nothing
        from another instance before it). Only such records are handed over, in log
        order, so a task sees exactly the log a fetch would bring and computes the
        same; anything else, or anything not acknowledged within ``FORWARD_WAIT``,
        reaches the task through the consumer as before. Returns the records handed over.
        """
        n = 0
        while sent := self._emit():
            try:
                self.producer.flush(timeout=FORWARD_WAIT)
            except KafkaTimeoutError:
                pass  # Kafka is slow or away: the fetches deliver them once it is back
            batches = {}
            for tp, messages in sent.items():
                task = self.tasks.get(tp)
                records = next_in_log(task.next_offset, messages) if task is not None else []
                if records:
                    batches[tp] = records
            if not batches:
                break
            n += self._run(batches)
            for tp in batches:
                self._skip_fetched(tp)
        return n

    def _skip_fetched(self, tp: TopicPartition) -> None:
        """Fetch ``tp`` from its task's next offset on, not the records just handed over."""
        try:
            self.consumer.seek(tp, self.tasks[tp].next_offset)
        except ValueError:
            pass  # revoked meanwhile: the task is dropped before the next poll

    def _emit(self) -> dict[TopicPartition, list[tuple[FutureRecordMetadata, bytes, bytes]]]:
        """Send each stage-1 and stage-2 task's rows and, where it changed, its watermark downstream.

        Returns what went to partitions whose task runs here: the send's future, key and value.
        """
        local: dict[TopicPartition, list[tuple[FutureRecordMetadata, bytes, bytes]]] = {}
        for tp, task in list(self.tasks.items()):
            if task.stage == 3:
                continue
            dest = self.topics.by_target if task.stage == 1 else self.topics.episodes
            wm, idle = task.watermark()
            key = str(tp.partition).encode()
            for p in range(self.partitions[dest]):
                parts = task.outbox.pop(p, [])
                if not parts and task.sent.get(p) == (wm, idle):
                    continue
                rows = (parts[0] if len(parts) == 1 else pa.concat_tables(parts)) if parts else None
                to = TopicPartition(dest, p)
                for value in packets(tp.partition, rows, wm, idle):
                    future = self.sender.send(dest, value=value, key=key, partition=p)
                    if to in self.tasks:
                        local.setdefault(to, []).append((future, key, value))
                task.sent[p] = (wm, idle)
        return local

    def _checkpoint(self, tasks: list[Task]) -> None:
        """Start a checkpoint of ``tasks`` on the checkpoint thread; processing goes on meanwhile.

        One at a time, since each compares and sets the offsets the one before wrote.
        Only the snapshot of the state is taken here: encoding it, waiting for Kafka's
        acknowledgements and the store transaction (SQLite and the PostgreSQL server
        work outside the GIL) overlap with the next batches, or with the waits for them.
        """
        if not tasks or self._inflight is not None:
            return
        started = time.monotonic()
        entries = [t.checkpoint() for t in tasks]
        produced = [t.produced for t in tasks]
        for t in tasks:
            t.produced = {}
        self._send_alerts([a for e in entries for a in e.alerts])
        job = self._writer.submit(self._write, entries, self.sender.take(), produced)
        self._inflight = _Checkpoint(tasks, entries, started, job)

    def _write(self, entries: list[TaskCheckpoint], futures: list,
               produced: list[dict[str, list[np.ndarray]]]) -> tuple[list[TaskCheckpoint], float, float]:
        """On the checkpoint thread: once Kafka has every message the batches produced, the store transaction.

        The produce-to-commit latency of what it made durable is recorded here, at the
        commit, not when the processing thread next looks. Returns the entries that
        conflicted, when the commit finished, and when the next checkpoint may start so
        that encoding the state takes at most half the checkpoint thread's time.
        """
        self.sender.flush(futures)
        started = time.monotonic()
        for entry in entries:
            entry.encoded()
        encoding = time.monotonic() - started
        conflicts = self.checkpoints.commit(entries)
        finished = time.monotonic()
        failed = {(e.topic, e.partition) for e in conflicts}
        durable: dict[str, list[np.ndarray]] = {}
        for entry, samples in zip(entries, produced):
            if (entry.topic, entry.partition) not in failed:
                for kind, values in samples.items():
                    durable.setdefault(kind, []).extend(values)
        self.metrics.committed({kind: np.concatenate(values) for kind, values in durable.items()})
        return conflicts, finished, finished + encoding

    def _settle(self, wait: bool = False) -> None:
        """Apply the outcome of the checkpoint in flight once it is done (with ``wait``, wait for it)."""
        c = self._inflight
        if c is None or not (wait or c.job.done()):
            return
        self._inflight = None
        try:
            conflicts, finished, encoded_by = c.job.result()
        except DeliveryError as exc:
            log.error("%s; going back to the last checkpoint", exc)
            self._rewind()
            return
        failed = {(e.topic, e.partition) for e in conflicts}
        offsets = {}
        for task, entry in zip(c.tasks, c.entries):
            tp = TopicPartition(task.topic, task.partition)
            if (task.topic, task.partition) in failed:
                self.metrics.conflicts.inc()
                self.tasks.pop(tp, None)
                self.events.put(("restore", tp))
                continue
            task.committed = entry.next_offset
            offsets[tp] = OffsetAndMetadata(entry.next_offset, "", -1)
        if offsets and not self._in_poll:
            self.consumer.commit_async(offsets)  # lag monitoring only: positions come from the store
        self.summary.commits += 1
        self.metrics.commit_seconds.observe(finished - c.started)
        self.metrics.state_bytes.set(sum(len(e.state or b"") for e in c.entries))
        # A checkpoint rewrites the whole state, a cost per checkpoint: encoding it takes at most half
        # the time. What the batches add to the store costs per row whenever it is written, so waiting
        # for it would only leave the checkpoint thread idle and hold the results back.
        self._next_commit = c.started + self.config.commit_interval
        self._encoded_by = encoded_by

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
        if self._inflight is not None:
            return False
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
