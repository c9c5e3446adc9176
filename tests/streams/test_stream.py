"""The stream against a real broker and stores: same results as a replay, through crashes and takeovers."""

from __future__ import annotations

import json
import os
import signal
import time

import numpy as np
import pytest
import sqlalchemy as sa
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka_broker import assert_same_results, cli, start_stream, wait

from detector import store

pytestmark = pytest.mark.kafka


def produce(broker, data, topic="alpr.searches"):
    cli("produce", str(data / "searches.csv"), "--bootstrap", broker.bootstrap, "--topic", topic)


def export_and_compare(store_url, replay, out):
    cli("export", "--store", store_url, "--out", str(out))
    assert_same_results(replay, out)


def committed_offsets(store_url: str) -> int:
    engine = store.open_store(store_url)
    try:
        with engine.connect() as c:
            return int(c.execute(sa.select(sa.func.coalesce(sa.func.sum(store.checkpoints.c.next_offset), 0))).scalar())
    finally:
        engine.dispose()


def test_stream_gives_what_replay_gives(broker, small_dataset, tmp_path):
    produce(broker, small_dataset["data"])
    url = f"sqlite:///{tmp_path / 'stream.sqlite'}"
    proc = start_stream(broker.bootstrap, url, small_dataset["data"], "--exit-when-idle", "3", log=tmp_path / "log")
    assert wait(proc, 180) == 0, (tmp_path / "log").read_text()[-3000:]
    log = (tmp_path / "log").read_text()
    assert "searches scored: 8,000" in log
    export_and_compare(url, small_dataset["replay"], tmp_path / "out")
    engine = store.open_store(url)
    with engine.connect() as c:  # the searches are kept for the dashboard, as replay keeps them
        assert c.execute(sa.select(sa.func.count()).select_from(store.searches)).scalar() == 8_000
    engine.dispose()


def busiest_agency_rule(data, tmp_path, rule_id):
    """A rule silencing the busiest agency over the whole log, and how many searches a replay with it touched."""
    import pandas as pd

    searches = pd.read_csv(data / "searches.csv", dtype=str, keep_default_na=False)
    last = pd.Timestamp(searches["ts"].max()).strftime("%Y-%m-%d")
    busiest = searches["agency"].value_counts().index[0]
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"suppressions:\n  - {{id: {rule_id}, reason: test, agency: {busiest!r}, signals: all, expires: {last}}}\n")
    replayed = cli("replay", str(data), "--out", str(tmp_path / "replay"), "--no-model", "--no-progress", "--suppressions", str(rules))
    touched = replayed.stdout.split(f"suppression rule {rule_id}: ")[1].split(" searches")[0]
    assert touched != "0"
    return rules, touched


def test_stream_applies_suppression_rules_as_replay_does(broker, small_dataset, tmp_path):
    rules, touched = busiest_agency_rule(small_dataset["data"], tmp_path, "busy")
    produce(broker, small_dataset["data"], topic="alpr.ruled")
    url = f"sqlite:///{tmp_path / 'stream.sqlite'}"
    proc = start_stream(broker.bootstrap, url, small_dataset["data"], "--exit-when-idle", "3", "--suppressions", str(rules),
                        topic="alpr.ruled", group="ruled", log=tmp_path / "log")
    assert wait(proc, 180) == 0, (tmp_path / "log").read_text()[-3000:]
    assert f"suppression rule busy: {touched} searches" in (tmp_path / "log").read_text()
    export_and_compare(url, tmp_path / "replay", tmp_path / "out")


def test_a_running_stream_takes_up_a_rule_a_supervisor_writes_in_the_store(broker, small_dataset, tmp_path):
    from detector.suppress import load_suppressions, save_rule

    rules, touched = busiest_agency_rule(small_dataset["data"], tmp_path, "live")
    url = f"sqlite:///{tmp_path / 'stream.sqlite'}"
    log = tmp_path / "log"
    # the searches arrive while the stream runs: partitions must wait for each other longer than the
    # producer's pauses (idle grace), or searches of one would be taken before earlier ones of another
    proc = start_stream(broker.bootstrap, url, small_dataset["data"], "--exit-when-idle", "15", "--rules-interval", "0.3",
                        "--idle-grace", "5", topic="alpr.live", group="live", log=log)

    def logged(text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)

    logged("stream: ")  # running, with the store's rules (none) read
    engine = store.open_store(url)
    with engine.begin() as conn:
        save_rule(conn, load_suppressions(rules).rules[0], "supervisor")
    engine.dispose()
    logged("suppression rules read from the store: 1 (1 new")
    produce(broker, small_dataset["data"], topic="alpr.live")
    assert wait(proc, 180) == 0, log.read_text()[-3000:]
    assert f"suppression rule live: {touched} searches" in log.read_text()
    export_and_compare(url, tmp_path / "replay", tmp_path / "out")


@pytest.mark.postgres
def test_two_instances_on_postgres_split_partitions_and_agree_with_replay(broker, small_dataset, pg_url, tmp_path):
    produce(broker, small_dataset["data"])
    procs = [start_stream(broker.bootstrap, pg_url, small_dataset["data"], "--exit-when-idle", "6",
                          log=tmp_path / f"log{i}") for i in range(2)]
    for i, p in enumerate(procs):
        assert wait(p, 240) == 0, (tmp_path / f"log{i}").read_text()[-3000:]
    scored = [int(line.split("searches scored: ")[1].split()[0].replace(",", ""))
              for i in range(2) for line in (tmp_path / f"log{i}").read_text().splitlines() if "searches scored: " in line]
    assert sum(scored) >= 8_000 and min(scored) > 0, scored  # work redone after a rebalance counts twice
    export_and_compare(pg_url, small_dataset["replay"], tmp_path / "out")


@pytest.mark.slow
def test_kill_9_at_random_points_loses_and_duplicates_nothing(broker, small_dataset, tmp_path):
    produce(broker, small_dataset["data"])
    url = f"sqlite:///{tmp_path / 'stream.sqlite'}"
    rng = np.random.default_rng(4)
    small = ["--max-poll-records", "300", "--commit-interval", "0.2"]
    kills = 0
    for _ in range(3):
        before = committed_offsets(url) if kills else 0
        proc = start_stream(broker.bootstrap, url, small_dataset["data"], *small, log=tmp_path / "log")
        deadline = time.monotonic() + 60
        while committed_offsets(url) <= before and time.monotonic() < deadline:  # let it get somewhere first
            time.sleep(0.2)
        time.sleep(float(rng.uniform(0.0, 1.5)))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
    assert kills >= 2
    proc = start_stream(broker.bootstrap, url, small_dataset["data"], *small, "--exit-when-idle", "4", log=tmp_path / "log")
    assert wait(proc, 240) == 0, (tmp_path / "log").read_text()[-3000:]
    export_and_compare(url, small_dataset["replay"], tmp_path / "out")


@pytest.mark.slow
def test_survivor_takes_over_a_dead_instances_partitions_with_their_state(broker, small_dataset, tmp_path):
    produce(broker, small_dataset["data"])
    url = f"sqlite:///{tmp_path / 'stream.sqlite'}"
    slow = ["--max-poll-records", "200", "--commit-interval", "0.3"]
    store.open_store(url).dispose()  # migrate once: two processes migrating one new SQLite file race
    survivor = start_stream(broker.bootstrap, url, small_dataset["data"], *slow, "--exit-when-idle", "10",
                            log=tmp_path / "survivor")
    victim = start_stream(broker.bootstrap, url, small_dataset["data"], *slow, log=tmp_path / "victim")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and "restored" not in (tmp_path / "victim").read_text():
        time.sleep(0.2)
    time.sleep(2.0)  # let the victim commit some of its partitions' state
    assert victim.poll() is None, "the victim finished before it could be killed"
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert wait(survivor, 240) == 0, (tmp_path / "survivor").read_text()[-3000:]
    export_and_compare(url, small_dataset["replay"], tmp_path / "out")


def stored_scores(store_url: str) -> int:
    engine = store.open_store(store_url)
    try:
        with engine.connect() as c:
            return int(c.execute(sa.select(sa.func.count()).select_from(store.scores)).scalar())
    finally:
        engine.dispose()


def test_a_pause_in_the_input_is_checkpointed_at_once_whatever_the_commit_interval(broker, small_dataset, tmp_path):
    produce(broker, small_dataset["data"])
    url = f"sqlite:///{tmp_path / 'stream.sqlite'}"
    proc = start_stream(broker.bootstrap, url, small_dataset["data"], "--commit-interval", "600", log=tmp_path / "log")
    try:
        deadline = time.monotonic() + 120
        while stored_scores(url) < 8_000 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
        assert proc.poll() is None, (tmp_path / "log").read_text()[-3000:]
        assert stored_scores(url) == 8_000  # every score durable long before a commit interval has passed
    finally:
        proc.send_signal(signal.SIGTERM)
        assert wait(proc, 60) == 0


def test_sigterm_finishes_the_batch_commits_and_leaves(broker, small_dataset, tmp_path):
    produce(broker, small_dataset["data"])
    url = f"sqlite:///{tmp_path / 'stream.sqlite'}"
    proc = start_stream(broker.bootstrap, url, small_dataset["data"], "--max-poll-records", "300", log=tmp_path / "log")
    deadline = time.monotonic() + 60
    while committed_offsets(url) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert wait(proc, 60) == 0
    assert "left consumer group g" in (tmp_path / "log").read_text()
    proc = start_stream(broker.bootstrap, url, small_dataset["data"], "--exit-when-idle", "3", log=tmp_path / "log")
    assert wait(proc, 180) == 0
    export_and_compare(url, small_dataset["replay"], tmp_path / "out")


@pytest.mark.slow
def test_stream_rides_out_a_broker_outage(broker, small_dataset, tmp_path):
    produce(broker, small_dataset["data"])
    url = f"sqlite:///{tmp_path / 'stream.sqlite'}"
    proc = start_stream(broker.bootstrap, url, small_dataset["data"], "--max-poll-records", "300",
                        "--exit-when-idle", "8", log=tmp_path / "log")
    deadline = time.monotonic() + 60
    while committed_offsets(url) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    broker.pause()
    time.sleep(6)
    broker.resume()
    assert wait(proc, 240) == 0, (tmp_path / "log").read_text()[-3000:]
    export_and_compare(url, small_dataset["replay"], tmp_path / "out")


BAD = [
    (b"not json at all", ""),
    (b"[1, 2, 3]", ""),
    (b'{"search_id": "m1", "user_id": "u", "agency": "Town PD"}', "ts"),
    (b'{"search_id": "m2", "ts": "soon", "user_id": "u", "agency": "Town PD"}', "ts"),
    (b'{"search_id": "m3", "ts": "2025-10-01T10:00:00Z", "user_id": "u", "agency": "Town PD", "networks_searched": "many"}',
     "networks_searched"),
    (b'{"search_id": "m4", "ts": "2025-10-01T10:00:00Z", "user_id": "u"}', "agency"),
    # a mistyped year: centuries after the message was produced
    (b'{"search_id": "m5", "ts": "2205-10-01T10:00:00Z", "user_id": "u", "agency": "Town PD", "plate": "abc2"}', "ts"),
]


def test_malformed_messages_go_to_the_dead_letter_topic_with_reasons(broker, tmp_path):
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    good = {"search_id": "ok1", "ts": "2025-10-01T10:00:00Z", "user_id": "u", "agency": "Town PD", "plate": "abc1"}
    for value, _ in BAD[:3]:
        producer.send("t", value=value, key=b"Town PD", partition=0)
    producer.send("t", value=json.dumps(good).encode(), key=b"Town PD", partition=0)
    for value, _ in BAD[3:]:
        producer.send("t", value=value, key=b"Town PD", partition=0)
    producer.flush()
    url = f"sqlite:///{tmp_path / 'stream.sqlite'}"
    proc = start_stream(broker.bootstrap, url, tmp_path, "--exit-when-idle", "3", topic="t", log=tmp_path / "log")
    assert wait(proc, 120) == 0, (tmp_path / "log").read_text()[-3000:]
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    consumer.assign([TopicPartition("t.dlq", p) for p in range(4)])
    letters = []
    deadline = time.monotonic() + 20
    while len(letters) < len(BAD) and time.monotonic() < deadline:
        for records in consumer.poll(500).values():
            letters += records
    consumer.close()
    assert sorted(r.value for r in letters) == sorted(v for v, _ in BAD)
    for value, field_name in BAD:
        r = next(r for r in letters if r.value == value)
        headers = dict(r.headers)
        assert headers["dlq.field"].decode() == field_name
        assert headers["dlq.reason"] and headers["dlq.source"] == b"t/0" and int(headers["dlq.offset"]) >= 0
    engine = store.open_store(url)
    with engine.connect() as c:
        assert c.execute(sa.select(store.scores.c.search_id)).scalars().all() == ["ok1"]
    engine.dispose()
    # the log says how many and in which field, never what was in them
    log = (tmp_path / "log").read_text()
    assert "dead letters: 7" in log and "abc1" not in log.lower() and "soon" not in log and "2205" not in log
