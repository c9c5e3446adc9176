"""Throughput of the detector's feature and scoring path, and of a whole replay, on 1M searches.

Goals (issue "Detection engine"): features and rules at >= 1M searches/s per core; the
whole replay of 1M canonical searches from Parquet in under 5 s on 2 cores.

The stages are timed over two passes, each with a fresh detector: the first in memory
the process has never touched (its pages faulted in as the state tables grow, as in a
replay's single pass), the second in memory the first freed (as in a stream's steady
state, or a replay's later batches). The allocator is tuned as the replay command tunes
it (``streams.memory``), so that freed memory is kept for reuse. The whole replay is timed
in this process (its memory warm by then) and as the command a user runs, in a fresh
process: interpreter start-up, imports, numba's set-up and the model's fit included.

    python bench/detect.py [--searches 1000000] [--data DIR]

The synthetic dataset is generated once into DIR (default /tmp/alpr-bench-1m) and reused.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pyarrow

from detector.engine import Detector, in_time_order
from detector.policy import load_policy
from detector.reference import load_reference
from detector.validate import RejectCounter
from streams.files import read_searches
from streams.memory import keep_freed_memory
from streams.replay import home_state, replay


def _dataset(path: Path, searches: int) -> Path:
    if not (path / "searches.parquet").exists():
        from synthetic import generate

        t = time.perf_counter()
        generate(days=60, seed=11, searches=searches).write(path, format="parquet")
        print(f"generated {searches:,} synthetic searches in {time.perf_counter() - t:.1f} s -> {path}")
    return path


def _stage_times(data: Path) -> list[dict[str, float]]:
    """Per-stage seconds of the first pass and of the second (see the module docstring)."""
    ref = load_reference(data)
    det = Detector(ref, load_policy("auto", home_state(ref)))
    warm = next(read_searches(data, RejectCounter(), chunk_rows=2_000))
    # compile the kernels outside the timing, through the calls the passes make: the target stage
    # hands its kernel read-only columns of a frame, a type of its own to numba
    _pass(det, [warm])
    t = time.perf_counter()
    # read all first: the reader's prefetch thread would otherwise compete with the timed stages
    batches = list(read_searches(data, RejectCounter()))
    read = time.perf_counter() - t
    passes = []
    for _ in range(2):
        times = {"read": read} | _pass(Detector(ref, load_policy("auto", home_state(ref))), batches)
        times["searches"] = sum(len(batch) for batch in batches)
        passes.append(times)
    return passes


def _pass(det: Detector, batches: list[pd.DataFrame]) -> dict[str, float]:
    times = dict.fromkeys(("context", "user kernel", "target kernel", "rules+fusion", "alerts"), 0.0)
    for batch in batches:
        t = time.perf_counter()
        ordered, order = in_time_order(batch)
        c, keys = det.context(ordered)
        c["input_pos"] = order
        times["context"] += time.perf_counter() - t
        t = time.perf_counter()
        ctx = det.user_features(c, keys)
        times["user kernel"] += time.perf_counter() - t
        t = time.perf_counter()
        ctx = det.target_stage(ctx, keys)
        times["target kernel"] += time.perf_counter() - t
        t = time.perf_counter()
        S, score, attr = det.score(ctx)
        times["rules+fusion"] += time.perf_counter() - t
        t = time.perf_counter()
        det.alerter.add(ctx, score, attr, det.fusion.threshold)
        times["alerts"] += time.perf_counter() - t
    return times


def _command_seconds(data: Path, out: Path) -> float:
    """Wall seconds of ``alpr-watch replay DATA --out OUT`` (Parquet scores), as a user runs it."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "detector.cli", "replay", str(data), "--out", str(out), "--no-progress",
                    "--scores-format", "parquet"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--searches", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "alpr-bench-1m")
    args = ap.parse_args()
    data = _dataset(args.data, args.searches)

    keep_freed_memory()
    for label, times in zip(("first pass, memory never touched", "second pass, memory reused"), _stage_times(data)):
        n = times.pop("searches")
        print(f"\nper-stage figures on {n:,} searches, {label} (one process, kernels compiled beforehand)")
        for stage, secs in times.items():
            print(f"  {stage:<14} {secs:7.2f} s  {n / secs / 1e6:7.2f} M searches/s")
        core = times["user kernel"] + times["target kernel"] + times["rules+fusion"]
        print(f"  {'kernels+rules':<14} {core:7.2f} s  {n / core / 1e6:7.2f} M searches/s   (goal >= 1.0 per core)")
        feat = core + times["context"]
        print(f"  {'features+rules':<14} {feat:7.2f} s  {n / feat / 1e6:7.2f} M searches/s   (context included)")

    with tempfile.TemporaryDirectory() as out:
        for label, kwargs in (("rules only", {"retrospective": False}), ("retrospective model", {})):
            t = time.perf_counter()
            summary = replay(data, out, scores_name="scores.parquet", progress=False, **kwargs)
            secs = time.perf_counter() - t
            print(f"whole replay ({label}): {summary.scored:,} searches in {secs:.2f} s = "
                  f"{summary.scored / secs:,.0f} searches/s   (goal: 1M in < 5 s)")
        runs = sorted(_command_seconds(data, Path(out) / "command") for _ in range(3))
        print(f"the command in a fresh process (start-up, imports and the model's fit included): best {runs[0]:.2f} s, "
              f"median {runs[1]:.2f} s   (goal: 1M in < 5 s)")
    print(f"numba {numba.__version__}, numpy {np.__version__}, pandas {pd.__version__}, pyarrow {pyarrow.__version__}: "
          "figures are comparable only with the same versions, on the same machine, in the same hour")


if __name__ == "__main__":
    main()
