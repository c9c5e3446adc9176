"""Putting a search log on Kafka the way the stream expects it: keyed by agency, in time order.

Keyed by the searching agency so that everything per-user lands in one partition;
sent in (ts, search_id) order so that every partition is in event-time order, which
is what lets the stream's watermarks release rows exactly as a replay orders them.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from detector.schema import FIELDS, plain_columns
from detector.validate import RejectCounter
from streams.kafka_io import KafkaSettings, agency_partition, ensure_topics
from streams.sources import open_searches


@dataclass
class ProduceSummary:
    sent: int = 0
    rejected: int = 0
    duplicates: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        rate = self.sent / self.seconds if self.seconds else 0.0
        return [f"searches sent: {self.sent:,} in {self.seconds:.1f} s ({rate:,.0f}/s)  "
                f"rejected: {self.rejected:,}  duplicates left in: {self.duplicates:,}"]


def read_sorted(path: str | Path, fmt: str | None = None, agency: str | None = None) -> tuple[pd.DataFrame, int]:
    """All valid searches of ``path`` in (ts, search_id) order, as ``open_searches`` feeds
    them, and how many rows were rejected."""
    rejects = RejectCounter()
    batches = [b for b in open_searches(path, rejects, fmt, agency) if len(b)]
    if not batches:
        return pd.DataFrame(), len(rejects)
    return pd.concat(batches, ignore_index=True), len(rejects)


def canonical_records(batch: pd.DataFrame) -> list[dict]:
    """Spec section 1 objects: empty optional values left out, times in ISO-8601 (UTC), whole numbers as ints."""
    columns = plain_columns(batch, ts=lambda v: v.isoformat())
    required = {f.name for f in FIELDS if f.required}
    names = list(columns)
    return [{k: v for k, v in zip(names, row) if k in required or (v is not None and v != "")}
            for row in zip(*columns.values())]


def produce_file(path: str | Path, settings: KafkaSettings, topic: str, rate: float | None = None,
                 fmt: str | None = None, agency: str | None = None, partitions: int = 4) -> ProduceSummary:
    """Send every valid search of ``path`` to ``topic``; ``rate`` caps searches per second."""
    frame, rejected = read_sorted(path, fmt, agency)
    summary = ProduceSummary(rejected=rejected)
    if frame.empty:
        return summary
    summary.duplicates = int(frame["search_id"].duplicated().sum())
    n = ensure_topics(settings, {topic: partitions})[topic]
    producer = settings.producer("alpr-watch-produce")
    futures = []
    where: dict[str, int] = {}
    started = time.monotonic()
    try:
        for i, record in enumerate(canonical_records(frame)):
            if rate:
                ahead = started + i / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            a = record["agency"]
            if a not in where:
                where[a] = agency_partition(a, n)
            futures.append(producer.send(topic, value=json.dumps(record, ensure_ascii=False).encode(),
                                         key=a.encode(), partition=where[a]))
        producer.flush()
    finally:
        producer.close()
    failed = sum(1 for f in futures if f.failed())
    if failed:
        raise RuntimeError(f"{failed} of {len(futures)} searches were not accepted by Kafka")
    summary.sent = len(futures)
    summary.seconds = time.monotonic() - started
    return summary
