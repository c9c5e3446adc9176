"""produce: canonical JSON objects keyed by agency, in time order, where Java clients would put them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka_broker import cli

from streams.kafka_io import KafkaSettings, agency_partition
from streams.produce import canonical_records, produce_file, read_sorted


def test_canonical_records_leave_out_empty_values_and_keep_types(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("search_id,ts,user_id,agency,plate,networks_searched,lat\n"
                    "b,2025-10-01T10:00:00.123456789Z,u1,Town PD,ab-1,3,\n"
                    "a,2025-10-01T10:00:00.123456789Z,***,Town PD,,,37.5\n"
                    "c,2025-10-01T09:00:00Z,u2,County SO,,,\n")
    frame, rejected = read_sorted(path)
    assert rejected == 0 and frame["search_id"].tolist() == ["c", "a", "b"]  # time, then id
    records = canonical_records(frame)
    assert records[1] == {"search_id": "a", "ts": "2025-10-01T10:00:00.123456789+00:00", "user_id": "", "agency": "Town PD",
                          "lat": 37.5}
    assert records[2]["plate"] == "AB1" and records[2]["networks_searched"] == 3


@pytest.mark.kafka
def test_produce_sends_each_agency_to_its_partition_in_time_order(broker, small_dataset):
    settings = KafkaSettings(broker.bootstrap)
    summary = produce_file(small_dataset["data"], settings, "p", partitions=3)
    assert summary.sent == 8_000 and summary.rejected == 0
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    consumer.assign([TopicPartition("p", i) for i in range(3)])
    got = []
    while len(got) < 8_000:
        polled = consumer.poll(1000)
        assert polled, f"only {len(got)} messages"
        for tp, records in polled.items():
            for r in records:
                value = json.loads(r.value)
                assert r.key.decode() == value["agency"] and agency_partition(value["agency"], 3) == tp.partition
                got.append((tp.partition, r.offset, pd.Timestamp(value["ts"]), value["search_id"]))
    consumer.close()
    frame = pd.DataFrame(got, columns=["partition", "offset", "ts", "search_id"])
    for _, part in frame.groupby("partition"):
        part = part.sort_values("offset")
        assert list(zip(part["ts"], part["search_id"])) == sorted(zip(part["ts"], part["search_id"]))
    assert frame["partition"].nunique() == 3


@pytest.mark.kafka
def test_synthesize_to_kafka_writes_the_reference_and_publishes_what_produce_would_send(broker, tmp_path):
    out = tmp_path / "data"
    r = cli("synthesize", "--days", "7", "--searches", "3000", "--seed", "5", "--out", str(out), "--to-kafka",
            "--bootstrap", broker.bootstrap, "--topic", "syn", "--partitions", "3")
    assert "to Kafka topic syn: searches sent: 3,000" in r.stdout
    assert all((out / f"{name}.csv").exists() for name in ("sites", "vehicles", "relations", "agencies", "users"))
    frame, _ = read_sorted(out / "searches.csv")
    expected = canonical_records(frame)
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    consumer.assign([TopicPartition("syn", i) for i in range(3)])
    got = {}
    while sum(len(v) for v in got.values()) < len(expected):
        polled = consumer.poll(1000)
        assert polled, f"only {sum(len(v) for v in got.values())} messages"
        for tp, records in polled.items():
            got.setdefault(tp.partition, []).extend(records)
    consumer.close()
    for partition, records in got.items():
        values = [json.loads(rec.value) for rec in sorted(records, key=lambda rec: rec.offset)]
        assert all(rec.key.decode() == v["agency"] and agency_partition(v["agency"], 3) == partition
                   for rec, v in zip(records, values))
        # each partition holds its agencies' searches in the order produce sends the file
        assert values == [e for e in expected if agency_partition(e["agency"], 3) == partition]


def test_synthesize_to_kafka_needs_a_bootstrap_server(tmp_path):
    command = Path(sys.executable).with_name("alpr-watch")  # the entry point: it turns CliError into status 2
    r = subprocess.run([str(command), "synthesize", "--days", "7", "--searches", "3000", "--out", str(tmp_path),
                        "--to-kafka"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--to-kafka needs --bootstrap" in r.stderr
    assert not any(tmp_path.iterdir())  # refused before generating anything
