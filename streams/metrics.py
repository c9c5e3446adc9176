"""What an operator watches on a running stream: lag, throughput, latency, dead letters.

Exposed to Prometheus (``--metrics-port``) and summarised in a periodic log line.
Only counts and timings leave this module: never a plate, a name or a search id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.utils import floatToGoString

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class StreamMetrics:
    """Counters for one stream process; ``latencies`` keeps recent samples for percentiles."""

    def __init__(self, port: int | None = None, keep: int = 100_000) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.records = Counter("alpr_stream_records", "Messages consumed, by stage", ["stage"], registry=r)
        self.searches = Counter("alpr_stream_searches_scored", "Searches scored (stage 2)", registry=r)
        self.alerts = Counter("alpr_stream_alert_updates", "Alert versions committed (stage 3)", registry=r)
        self.dlq = Counter("alpr_stream_dead_letters", "Messages sent to the dead-letter topic, by field", ["field"], registry=r)
        self.duplicates = Counter("alpr_stream_duplicates_dropped", "Repeated rows or searches dropped, by stage", ["stage"], registry=r)
        self.late = Counter("alpr_stream_late_rows", "Rows that arrived behind the event-time watermark", ["stage"], registry=r)
        self.conflicts = Counter("alpr_stream_checkpoint_conflicts", "Checkpoints another instance committed first", registry=r)
        self.lag = Gauge("alpr_stream_lag", "Messages behind the end of each assigned partition", ["topic", "partition"], registry=r)
        self.tasks = Gauge("alpr_stream_tasks", "Partitions owned, by stage", ["stage"], registry=r)
        self.batch_seconds = Histogram("alpr_stream_batch_seconds", "Processing time of one poll batch", registry=r,
                                       buckets=LATENCY_BUCKETS)
        self.commit_seconds = Histogram("alpr_stream_commit_seconds", "Time of one checkpoint commit", registry=r,
                                        buckets=LATENCY_BUCKETS)
        self.state_bytes = Gauge("alpr_stream_state_bytes", "Size of the state written by the last commit", registry=r)
        self.alert_latency = BulkHistogram("alpr_stream_produce_to_alert_seconds",
                                           "From a search's produce time to the commit of its alert", r)
        self.score_latency = BulkHistogram("alpr_stream_produce_to_score_seconds",
                                           "From a search's produce time to the commit of its score", r)
        self.alert_samples: deque[float] = deque(maxlen=keep)
        self.score_samples: deque[float] = deque(maxlen=keep)
        self._batch_samples: deque[float] = deque(maxlen=1000)
        self._last_log = time.monotonic()
        self._logged: dict[str, float] = {}
        if port is not None:
            start_http_server(port, registry=self.registry)

    def batch(self, seconds: float) -> None:
        self.batch_seconds.observe(seconds)
        self._batch_samples.append(seconds)

    def committed(self, produced_ms: dict[str, np.ndarray]) -> None:
        """Record produce-to-commit latency of the scores and alerts a commit made durable."""
        now_ms = time.time() * 1000.0
        for kind, samples, hist in (("score", self.score_samples, self.score_latency),
                                    ("alert", self.alert_samples, self.alert_latency)):
            values = produced_ms.get(kind)
            if values is None or not len(values):
                continue
            seconds = (now_ms - values[values > 0]) / 1000.0
            samples.extend(seconds.tolist())
            hist.observe_many(seconds)

    def total(self, counter: Counter) -> float:
        return sum(s.value for m in counter.collect() for s in m.samples if s.name.endswith("_total"))

    def maybe_log(self, every: float) -> None:
        now = time.monotonic()
        if now - self._last_log < every:
            return
        elapsed = now - self._last_log
        self._last_log = now
        totals = {"records": self.total(self.records), "scored": self.total(self.searches),
                  "alerts": self.total(self.alerts), "dlq": self.total(self.dlq)}
        rate = (totals["scored"] - self._logged.get("scored", 0.0)) / elapsed
        self._logged = totals
        lag = sum(s.value for m in self.lag.collect() for s in m.samples)
        batches = np.array(self._batch_samples) if self._batch_samples else np.zeros(1)
        log.info("stream: %d records, %d scored (%.0f/s), %d alert updates, %d dead letters, lag %d, batch p50 %.0f ms p99 %.0f ms",
                 totals["records"], totals["scored"], rate, totals["alerts"], totals["dlq"], lag,
                 1000 * np.percentile(batches, 50), 1000 * np.percentile(batches, 99))


class BulkHistogram:
    """A Prometheus histogram fed a whole commit's latencies at once.

    A commit makes thousands of scores durable; ``Histogram.observe`` one by one costs
    a few microseconds each, a few percent of the stream's time at full rate.
    """

    def __init__(self, name: str, documentation: str, registry: CollectorRegistry,
                 buckets: tuple[float, ...] = LATENCY_BUCKETS) -> None:
        self.name, self.documentation = name, documentation
        self.bounds = np.array(buckets)
        self.counts = np.zeros(len(buckets) + 1, dtype=np.int64)  # the last one is +Inf
        self.sum = 0.0
        self._lock = threading.Lock()
        registry.register(self)

    def observe_many(self, values: np.ndarray) -> None:
        at = np.searchsorted(self.bounds, values, side="left")  # a value on a bound counts in that bucket (le)
        with self._lock:
            self.counts += np.bincount(at, minlength=len(self.counts))
            self.sum += float(values.sum())

    @property
    def count(self) -> int:
        """How many values it was fed: with the score histogram, the scores committed so far."""
        with self._lock:
            return int(self.counts.sum())

    def collect(self):
        with self._lock:
            cumulative, total = np.cumsum(self.counts).tolist(), self.sum
        labels = [floatToGoString(b) for b in self.bounds.tolist()] + ["+Inf"]
        yield HistogramMetricFamily(self.name, self.documentation, buckets=list(zip(labels, cumulative)), sum_value=total)
