"""Stream benchmark: sustained throughput and produce-to-commit latency, through kafka-python.

Starts a Tansu broker on a free port, fills it with a synthetic search log and runs
one stream instance in this process, with exactly-once checkpoints in the store:

1. throughput: the whole log is on the topic first; searches per second from the
   first message consumed to the checkpoint that commits the last score;
2. latency: ``alpr-watch produce --rate`` feeds a fresh topic at a fixed rate while
   the stream runs; from each search's produce time to the commit of its score and,
   for flagged searches, of its alert (p50, p99).

Prints figures, asserts nothing. Goals: >= 20,000 searches/s on one instance; p99
below 1 s at 1,000 searches/s. Each figure comes with the CPU time this process spent
(all its threads; the broker runs apart) and the machine's load average, since on a
shared machine the wall-clock figures move with whatever else runs.

    python bench/stream.py [--searches 200000] [--rate 1000] [--seconds 30] [--store URL]
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "streams"))

from kafka_broker import TansuBroker, write_dataset  # noqa: E402

from streams.kafka_io import KafkaSettings  # noqa: E402
from streams.metrics import StreamMetrics  # noqa: E402
from streams.produce import produce_file, read_sorted  # noqa: E402
from streams.stream import StreamConfig, build_detector, run_stream  # noqa: E402


def start(config: StreamConfig, metrics: StreamMetrics, stop: threading.Event) -> threading.Thread:
    warm_up(Path(config.reference))
    thread = threading.Thread(target=run_stream, args=(config, metrics, stop), daemon=True)
    thread.start()
    return thread


def warm_up(data: Path) -> None:
    """Run the detector once in this process, so that no figure includes compiling its kernels.

    They compile on first use (then load from numba's cache): after a code change,
    that is seconds the stream would otherwise spend on its first batch.
    """
    batch, _ = read_sorted(data)
    build_detector(str(data), "auto", None).process(batch.head(2000))


def throughput(broker: TansuBroker, work: Path, searches: int, store_url: str, partitions: int) -> None:
    data = write_dataset(work / "tp", days=60, searches=searches)
    settings = KafkaSettings(broker.bootstrap, max_poll_interval_ms=10_000, session_timeout_ms=10_000)
    sent = produce_file(data, settings, "bench.tp", partitions=partitions)
    print(f"produced {sent.sent:,} searches in {sent.seconds:.1f} s", flush=True)
    metrics = StreamMetrics()
    stop = threading.Event()
    config = StreamConfig(settings, "bench.tp", "bench-tp", store_url, reference=str(data), idle_grace=0.5,
                          log_interval=5.0)
    thread = start(config, metrics, stop)
    first, cpu = None, 0.0
    while metrics.score_latency.count < sent.sent and thread.is_alive():  # the samples kept are capped
        if first is None and metrics.total(metrics.records) > 0:
            first, cpu = time.monotonic(), time.process_time()
        time.sleep(0.01)
    done, cpu = time.monotonic(), time.process_time() - cpu
    stop.set()
    thread.join()
    seconds = done - (first or done)
    n = metrics.score_latency.count
    print(f"throughput: {n:,} searches scored and committed in {seconds:.1f} s "
          f"= {n / max(seconds, 1e-9):,.0f} searches/s; CPU {cpu:.1f} s ({1e6 * cpu / max(n, 1):.0f} us a search) "
          f"({int(metrics.total(metrics.alerts)):,} alert updates, last checkpoint {metrics.state_bytes._value.get() / 1e6:.1f} MB, "
          f"{load()})", flush=True)


def latency(broker: TansuBroker, work: Path, rate: float, seconds: float, store_url: str, partitions: int) -> None:
    n = int(rate * seconds)
    data = write_dataset(work / "lat", days=max(7, int(seconds)), searches=n, seed=11)
    settings = KafkaSettings(broker.bootstrap, max_poll_interval_ms=10_000, session_timeout_ms=10_000)
    metrics = StreamMetrics()
    stop = threading.Event()
    config = StreamConfig(settings, "bench.lat", "bench-lat", store_url, reference=str(data), idle_grace=0.5,
                          partitions=partitions, commit_interval=0.2, poll_ms=20, log_interval=5.0)
    thread = start(config, metrics, stop)
    while sum(s.value for m in metrics.tasks.collect() for s in m.samples) < 3 * partitions:  # every task assigned
        time.sleep(0.2)
    time.sleep(2)  # first (empty) polls done
    began, cpu = time.monotonic(), time.process_time()
    subprocess.run([sys.executable, "-m", "detector.cli", "produce", str(data / "searches.csv"), "--bootstrap",
                    broker.bootstrap, "--topic", "bench.lat", "--rate", str(rate)], check=True, capture_output=True)
    deadline = time.monotonic() + 30
    while metrics.score_latency.count < n and time.monotonic() < deadline:
        time.sleep(0.1)
    cpu, elapsed = time.process_time() - cpu, time.monotonic() - began
    stop.set()
    thread.join()
    for kind, samples in (("score", metrics.score_samples), ("alert", metrics.alert_samples)):
        s = np.array(samples)
        if len(s):
            print(f"latency at {rate:,.0f} searches/s, produce to {kind} commit: p50 {1000 * np.percentile(s, 50):.0f} ms, "
                  f"p99 {1000 * np.percentile(s, 99):.0f} ms, max {1000 * s.max():.0f} ms over {len(s):,} searches", flush=True)
    print(f"latency run: the stream used {cpu / elapsed:.0%} of one core ({load()})", flush=True)


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--searches", type=int, default=200_000)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--store", help="store URL (default: a SQLite file in a temporary directory)")
    ap.add_argument("--skip", choices=["throughput", "latency"])
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp, TansuBroker() as broker:
        work = Path(tmp)
        if args.skip != "throughput":
            throughput(broker, work, args.searches, args.store or f"sqlite:///{work / 'tp.sqlite'}", args.partitions)
        if args.skip != "latency":
            latency(broker, work, args.rate, args.seconds, args.store or f"sqlite:///{work / 'lat.sqlite'}", args.partitions)


if __name__ == "__main__":
    main()
