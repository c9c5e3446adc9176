"""Kafka plumbing shared by ``stream``, ``produce`` and the tests: clients, topics, routing.

The stream runs one consumer group over three topics (searches, the by-target
repartition topic and the episodes topic), so that any instance can own any task.
The clients are configured here in one place because the rebalance timeout that
kafka-python derives from ``max_poll_interval_ms`` decides how fast a group forms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import TopicAlreadyExistsError
from kafka.partitioner.default import murmur2

# Repartition messages carry hundreds of rows; the broker default of 1 MB is too tight.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Topics:
    """The topics of one stream, named after its input topic."""

    searches: str

    @property
    def by_target(self) -> str:
        return f"{self.searches}.by-target"

    @property
    def episodes(self) -> str:
        return f"{self.searches}.episodes"

    @property
    def alerts(self) -> str:
        return f"{self.searches}.alerts"

    @property
    def dlq(self) -> str:
        return f"{self.searches}.dlq"

    def stage_of(self, topic: str) -> int:
        """1, 2 or 3: which stage consumes ``topic``."""
        return {self.searches: 1, self.by_target: 2, self.episodes: 3}[topic]


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap: str
    # kafka-python takes the rebalance timeout from max_poll_interval_ms; a joining
    # member waits that long, so keep it a few seconds in tests.
    max_poll_interval_ms: int = 30_000
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    request_timeout_ms: int = 30_000
    # How long the broker may hold a fetch that finds nothing new. The input, and a hop
    # between stages that another instance runs, wait on a fetch sent before the upstream
    # wrote, so this adds to their latency (Tansu holds fetches about a quarter of it).
    fetch_max_wait_ms: int = 20

    def consumer(self, group: str, client_id: str) -> KafkaConsumer:
        return KafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=group, client_id=client_id,
            enable_auto_commit=False, auto_offset_reset="earliest",
            max_poll_interval_ms=self.max_poll_interval_ms, session_timeout_ms=self.session_timeout_ms,
            heartbeat_interval_ms=min(self.heartbeat_interval_ms, self.session_timeout_ms // 3),
            request_timeout_ms=self.request_timeout_ms,
            max_partition_fetch_bytes=MAX_MESSAGE_BYTES, fetch_max_bytes=4 * MAX_MESSAGE_BYTES,
            fetch_max_wait_ms=self.fetch_max_wait_ms,
        )

    def producer(self, client_id: str) -> KafkaProducer:
        # idempotent, acks=all: a flushed message is in the log once and in send order
        return KafkaProducer(
            bootstrap_servers=self.bootstrap, client_id=client_id, linger_ms=5, batch_size=256 * 1024,
            max_request_size=MAX_MESSAGE_BYTES, request_timeout_ms=self.request_timeout_ms,
        )

    def admin(self) -> KafkaAdminClient:
        return KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=self.request_timeout_ms)


def partition_counts(admin: KafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Partitions per existing topic among ``names``."""
    existing = set(admin.list_topics())
    wanted = [n for n in names if n in existing]
    if not wanted:
        return {}
    return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(wanted) if t.get("partitions")}


def ensure_topics(settings: KafkaSettings, topics: dict[str, int]) -> dict[str, int]:
    """Create the topics that do not exist yet; returns the partition count of each."""
    admin = settings.admin()
    try:
        counts = partition_counts(admin, list(topics))
        missing = {name: n for name, n in topics.items() if name not in counts}
        if missing:
            try:
                admin.create_topics({name: {"num_partitions": n, "replication_factor": 1} for name, n in missing.items()},
                                    wait_for_metadata=True)
            except TopicAlreadyExistsError:
                pass  # another instance created it first
            counts = partition_counts(admin, list(topics))
        return counts
    finally:
        admin.close()


def agency_partition(agency: str, partitions: int) -> int:
    """The partition the Java client's default partitioner gives a UTF-8 key (murmur2)."""
    return (murmur2(agency.encode("utf-8")) & 0x7FFFFFFF) % partitions


def route(keys: pd.Series, partitions: int) -> np.ndarray:
    """Partition per row key for the internal topics: a stable 64-bit hash, vectorised.

    Internal topics are only read by this code, so they do not need the Java
    client's murmur2, and a vectorised hash keeps repartitioning cheap.
    """
    hashed = pd.util.hash_pandas_object(keys.astype(str), index=False).to_numpy()
    return (hashed % np.uint64(partitions)).astype(np.int64)
