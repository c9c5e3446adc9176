"""Replay benchmark: a 1M-row Flock Network Audit CSV to alerts, against plain pandas.

An auditor's question is how long a real network audit export (17 million rows for a
large agency) takes from the released CSV to alerts. This builds a synthetic Network
Audit CSV with the quirks of released ones (two-line Time Frame cells, ``***``,
``[Federal]``, ``——``, repeated IDs) and measures, in this one process:

1. ``replay(..., retrospective=False)``: reading, adapting, validating, dedup, detection,
   writing scores, alerts and the alert store (the core figure, best of ``--repeat``
   runs after a warm-up that compiles every kernel); then the default replay,
   which fits the anomaly model on the log's first 250,000 searches as it reads them,
   and the replay writing the HTML report too. Keeping every search in the store for
   the dashboard (the CLI's ``--store-searches``) is timed only with ``--store-searches``;
2. the same file through ``open_searches`` plus the reason taxonomy (reading and
   keyword categories only);
3. a plain pandas implementation of that reading and keyword categorisation:
   ``pd.read_csv``, per-column string operations, and the taxonomy's keyword regexes
   applied row by row with ``Series.str.contains``.

The project's modules are byte-compiled first, as an installed package's are, and this
process tunes glibc's allocator as the replay command does (``streams.memory``).
Peak memory is the kernel's high-water mark of this process over each phase (reset
through ``/proc/self/clear_refs``, else the process-wide ``ru_maxrss``). Interpreter
start-up and imports are timed apart, in fresh interpreters; so is the default command
as an auditor runs it, ``alpr-watch replay EXPORT --out DIR``, whole (start-up, imports,
model fit, replay; its own CPU time and peak memory, see ``timed_command``). Prints figures,
asserts nothing. Goals: >= 300,000 rows/s CSV to alerts, the default command on 1M rows
< 5 s, >= 5x plain pandas.

    python bench/replay.py [--rows 1000000] [--data DIR] [--repeat 3] [--skip-default] [--store-searches]

The CSV is built once into DIR (default /tmp/alpr-bench-replay-1m), in a child
process so that building it does not count against this process's memory.
"""

from __future__ import annotations

import argparse
import compileall
import csv
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd

from streams.memory import keep_freed_memory

EXPORT = "flock_network_audit.csv"
COMMAND = "alpr-watch replay EXPORT --out DIR"
WARM_ROWS = 50_000  # enough to compile every kernel, the dedup table's growth included
SHARE_REACHING = 0.55  # about this share of a synthetic world's searches reach the export owner's network


def build(directory: Path, rows: int, seed: int = 11) -> None:
    """A Network Audit CSV of exactly ``rows`` rows (newest first, as Flock sorts) and its reference files."""
    from synthetic import exports, generate

    directory.mkdir(parents=True, exist_ok=True)
    searches = int(rows / SHARE_REACHING)
    while True:
        data = generate(days=60, seed=seed, searches=searches)
        audit = exports.network_audit(data)
        if len(audit) >= rows:
            break
        searches = int(searches * rows / len(audit) * 1.05)
    for name in ("sites", "vehicles", "relations", "agencies", "users"):
        exports.write_csv(getattr(data, name), directory / f"{name}.csv")
    exports.write_csv(audit.iloc[:rows], directory / EXPORT)


def ensure_export(directory: Path, rows: int) -> Path:
    path = directory / EXPORT
    marker = directory / f".rows-{rows}"
    if not marker.exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--build", "--rows", str(rows), "--data", str(directory)], check=True)
        marker.touch()
        print(f"built {rows:,}-row {EXPORT} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.0f} s -> {directory}")
    return path


class Peak:
    """Peak resident memory over a block: the kernel's high-water mark, reset on entry where Linux allows."""

    def __enter__(self) -> Self:
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.exact = True
        except OSError:
            self.exact = False
        self.mb = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        if self.exact:
            status = Path("/proc/self/status").read_text()
            self.mb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
        else:
            self.mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, func: Callable[[], int], results: dict[str, tuple[int, float, float, float]], repeat: int = 1) -> None:
    """Best wall time of ``repeat`` runs, with its CPU time beside it.

    On a shared machine the wall clock also counts other people's work: the best of a
    few runs and the CPU time are the figures that say what the code costs.
    """
    runs = []
    with Peak() as peak:
        for _ in range(repeat):
            t, cpu = time.perf_counter(), time.process_time()
            rows = func()
            runs.append((time.perf_counter() - t, time.process_time() - cpu))
    secs, cpu = min(runs)
    results[label] = (rows, secs, cpu, peak.mb)
    spread = f"  (median of {repeat}: {sorted(runs)[repeat // 2][0]:.2f} s)" if repeat > 1 else ""
    print(f"  {label:<46} {rows:>9,} rows {secs:7.2f} s (cpu {cpu:6.2f} s) {rows / secs:>9,.0f} rows/s"
          f"  peak {peak.mb:6.0f} MB{spread}", flush=True)


def startup() -> dict[str, float]:
    """Best of three fresh interpreters: bare, importing the detector (what every command pays), and
    what the replay imports before it starts reading (it imports the detector while it reads)."""
    out = {}
    for label, code in (("python -c pass", "pass"), ("python -c 'import detector.engine'", "import detector.engine"),
                        ("python -c 'import streams.replay'", "import streams.replay")):
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            best = min(best, time.perf_counter() - t)
        out[label] = best
    return out


# Runs a command and prints its exit status, wall time, CPU time and peak resident memory (kB).
MEASURE = """\
import resource, subprocess, sys, time
t = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(code, time.perf_counter() - t, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


def timed_command(label: str, argv: list[str], rows: int, results: dict[str, tuple[int, float, float, float]],
                  repeat: int = 1) -> None:
    """``timed`` for a command in a fresh process: best wall time of ``repeat`` runs, the command's own CPU time and peak.

    Started from a small Python process of its own (``MEASURE``), not from this one:
    Linux carries the peak memory of the process that starts a command into the
    command's ``ru_maxrss`` (``wait4``, ``RUSAGE_CHILDREN``), and this one has held a
    1M-row pandas frame by then.
    """
    runs = []
    for _ in range(repeat):
        measured = subprocess.run([sys.executable, "-c", MEASURE, *argv], check=True, capture_output=True, text=True)
        code, secs, cpu, peak_kb = measured.stdout.split()
        if int(code):
            raise subprocess.CalledProcessError(int(code), argv)
        runs.append((float(secs), float(cpu), int(peak_kb) / 1024))
    secs, cpu, peak = min(runs)
    results[label] = (rows, secs, cpu, peak)
    spread = f"  (median of {repeat}: {sorted(runs)[repeat // 2][0]:.2f} s)" if repeat > 1 else ""
    print(f"  {label:<46} {rows:>9,} rows {secs:7.2f} s (cpu {cpu:6.2f} s) {rows / secs:>9,.0f} rows/s"
          f"  peak {peak:6.0f} MB{spread}", flush=True)


def ours_replay(path: Path, out: Path, store_searches: bool = False, **kwargs) -> int:
    """The replay writing scores, alerts and the alert store; every search into the store too if asked."""
    from streams.replay import replay

    return replay(path, out, progress=False, store_searches=store_searches, **kwargs).scored


def ours_read(path: Path) -> int:
    """Reading, adapting, validating and the reason taxonomy: the part plain pandas does below."""
    from detector.reasons import classify_column
    from detector.validate import RejectCounter
    from streams.sources import open_searches

    rows = 0
    for batch in open_searches(path, RejectCounter()):
        classify_column(batch["reason"], batch["offense_type"])
        rows += len(batch)
    return rows


FLOCK_TIME = "%m/%d/%Y, %I:%M:%S %p UTC"


def pandas_read(path: Path) -> int:
    """The straightforward pandas version of reading the export and tagging reason keywords."""
    from detector.reasons import PATTERNS

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    out = pd.DataFrame({"search_id": df["ID"].str.strip()})
    out["ts"] = pd.to_datetime(df["Search Time"].str.strip(), format=FLOCK_TIME, utc=True)
    frame = df["Time Frame"].str.split("\n", n=1, expand=True)
    out["window_start"] = pd.to_datetime(frame[0].str.strip(), format=FLOCK_TIME, utc=True, errors="coerce")
    out["window_end"] = pd.to_datetime(frame[1].str.strip(), format=FLOCK_TIME, utc=True, errors="coerce")
    name = df["Name"].str.strip()
    out["user_id"] = name.where(name != "***", "")
    org = df["Org Name"].str.strip()
    federal = org.str.startswith("[Federal]")
    out["agency"] = org.str.replace(r"^\[Federal\]\s*", "", regex=True)
    parts = org.str.extract(r"\b([A-Z]{2})\s+[A-Z]{2,4}(?:\s*\(.*\))?$|\s-\s([A-Z]{2})$|\(([A-Z]{2})\)$")
    out["agency_state"] = parts[0].fillna(parts[1]).fillna(parts[2]).fillna("").where(~federal, "US")
    plate = df["License Plate"].str.strip().str.upper().str.replace(r"[ \-]", "", regex=True)
    out["plate"] = plate.where(plate != "***", "")
    out["networks_searched"] = pd.to_numeric(df["Total Networks Searched"].str.strip(), errors="coerce")
    out["devices_searched"] = pd.to_numeric(df["Total Devices Searched"].str.strip().replace("——", ""), errors="coerce")
    out["case_number"] = df["Case #"].str.strip().replace("***", "")
    reason = df["Reason"].str.strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "has match groups": only a hit is wanted
        for category, patterns in PATTERNS.items():
            hit = np.zeros(len(reason), dtype=bool)
            for k in patterns:  # case=False rather than flags keeps pandas on Arrow's RE2 kernel
                found = reason.str.contains(k.pattern, case=not k.ignore_case, regex=True).to_numpy(dtype=bool)
                if k.unless is not None:
                    found = found & (reason.str.count(k.pattern, flags=re.IGNORECASE if k.ignore_case else 0)
                              > reason.str.count(k.unless, flags=re.IGNORECASE if k.ignore_case else 0)).to_numpy(dtype=bool)
                hit |= found
            out[category] = hit
    out = out.drop_duplicates("search_id")
    return len(out)


def byte_compile() -> None:
    """The project's modules byte-compiled, as an installed package's are. Where the
    environment sets ``PYTHONDONTWRITEBYTECODE`` (this machine does), every fresh process
    would otherwise compile them from their source, 0.1 to 0.2 s of each command."""
    root = Path(__file__).resolve().parent.parent
    for package in ("detector", "streams", "models"):
        compileall.compile_dir(root / package, quiet=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "alpr-bench-replay-1m")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the core replay and of the default command; the best is reported (default 3)")
    ap.add_argument("--skip-default", action="store_true",
                    help="skip the default replay and command (retrospective model fit)")
    ap.add_argument("--store-searches", action="store_true",
                    help="also time the replay as the CLI runs it, keeping every search in the SQLite store")
    ap.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build:
        build(args.data, args.rows)
        return
    path = ensure_export(args.data, args.rows)
    byte_compile()
    keep_freed_memory()  # as the replay command does for its own process
    print(f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"pandas {pd.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}")

    print("\ninterpreter start-up (fresh process, best of 3):")
    for label, secs in startup().items():
        print(f"  {label:<44} {secs:7.2f} s")

    results: dict[str, tuple[int, float, float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        warm = tmp / "warm" / EXPORT
        warm.parent.mkdir()
        with path.open(encoding="utf-8", newline="") as src, warm.open("w", encoding="utf-8", newline="") as dst:
            # the first 50,000 rows (cells span lines): imports and JIT compiled outside the timing
            csv.writer(dst, lineterminator="\n").writerows(row for _, row in zip(range(WARM_ROWS + 1), csv.reader(src)))
        print("\nin this process:")
        timed("warm-up: imports, JIT, 50k-row replay", lambda: ours_replay(warm, tmp / "w", retrospective=False), results)
        timed("replay CSV -> alerts (rules, no model fit)", lambda: ours_replay(path, tmp / "core", retrospective=False),
              results, repeat=args.repeat)
        if not args.skip_default:
            timed("replay CSV -> alerts (default: model fit too)", lambda: ours_replay(path, tmp / "default"), results)
        if args.store_searches:
            timed("replay, rules, every search into the store", lambda: ours_replay(path, tmp / "store", True,
                                                                                  retrospective=False), results)
        timed("replay CSV -> alerts + HTML report (rules)", lambda: ours_replay(path, tmp / "report", retrospective=False,
                                                                                report=tmp / "report.html"), results)
        timed("read + adapt + taxonomy (alpr-watch)", lambda: ours_read(path), results)
        timed("read + string ops + keyword regexes (pandas)", lambda: pandas_read(path), results)
        if not args.skip_default:
            print(f"\nthe default command, in a fresh process (best of {args.repeat}):")
            timed_command(COMMAND, [sys.executable, "-m", "detector.cli", "replay", str(path), "--out", str(tmp / "command"),
                                    "--no-progress"], results["replay CSV -> alerts (rules, no model fit)"][0], results,
                          repeat=args.repeat)

    rows, core, core_cpu, _ = results["replay CSV -> alerts (rules, no model fit)"]
    ours, plain = results["read + adapt + taxonomy (alpr-watch)"][1], results["read + string ops + keyword regexes (pandas)"][1]
    print("\nagainst the goals (wall clock; CPU time in brackets):")
    print(f"  CSV -> alerts: {rows / core:,.0f} rows/s ({rows / core_cpu:,.0f}), goal >= 300,000; "
          f"{core:.2f} s ({core_cpu:.2f} s) for {rows:,} rows")
    if COMMAND in results:
        _, secs, cpu, _ = results[COMMAND]
        print(f"  the default command, whole (start-up, imports, model fit, replay): {secs:.2f} s ({cpu:.2f} s) "
              f"for {rows:,} rows, goal < 5 s")
    for label in ("replay CSV -> alerts (default: model fit too)", "replay, rules, every search into the store",
                  "replay CSV -> alerts + HTML report (rules)"):
        if label in results:
            _, secs, cpu, _ = results[label]
            print(f"  {label}: {rows / secs:,.0f} rows/s ({rows / cpu:,.0f}), {secs:.2f} s ({cpu:.2f} s)")
    print(f"  reading + categories: alpr-watch {plain / ours:.1f}x plain pandas (goal >= 5x); "
          f"the whole CSV -> alerts replay {plain / core:.1f}x the plain pandas reading alone")

if __name__ == "__main__":
    main()
