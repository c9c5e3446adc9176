"""Detection quality on synthetic worlds generated afresh: the tables of docs/quality.md in one command.

Each world is generated once into DIR/<seed> (and reused from there), replayed as the
``replay`` command does by default (the anomaly model fitted on the replayed log, a
retrospective audit), and evaluated against its labels as ``evaluate`` does. Prints the
per-scenario table of the seeds and, with ``--sizes``, the table across sizes (the same
generator at 30,000 to 1,000,000 searches). With ``--compare REV``, also replays each world
with the project's code at that git revision (in a subprocess, from ``git archive``) and
prints the before/after table of docs/quality.md, naming the incidents one version finds and
the other misses. With ``--without``, also each world without a reference file or with a
field of the searches left blank throughout (or by half the agencies, a third of the
users, or in half the searches), or with every benign reason vague, or with a quarter of
the agencies' rows withheld (``***``), as an export may come: what each unlocks,
and whether its absence floods the queue; with ``--compare`` too, each variant before and after.
With ``--independent``, also worlds of the independently written generator
(``bench/independent_world.py``, into DIR/independent-<seed>), judged the same way and, with
``--compare``, before and after: what carries over to data this project did not make. Asserts nothing.

    python bench/quality.py [--seeds 21001 21002 21003] [--sizes] [--compare REV] [--without ...]
                            [--independent 1 2 3] [--data DIR]

Seeds a version was tuned on say little about it: give seeds never used before
(docs/quality.md lists the used ones).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from detector.evaluate import Quality, evaluate, read_reasons
from detector.schema import REFERENCE_FILES
from streams.memory import keep_freed_memory
from streams.replay import replay

# (seed, days, searches) of the worlds across sizes in docs/quality.md
SIZES = ((13101, 14, 30_000), (13102, 30, 60_000), (13104, 90, 400_000), (13103, 60, 1_000_000))
# What an export may lack besides a reference file: fields of the searches, blank throughout.
BLANK_FIELDS = {"case_number": ("case_number",), "networks_searched": ("networks_searched",),
                "location": ("lat", "lon", "radius_m"), "states": ("agency_state", "plate_state")}
# ... or blank in part, as agencies and officers differ in how they keep a field: (field, the
# column whose every k-th value by name never gives one, k); without a column each search's is
# lost with chance 1/k
BLANK_IN_PART = {"case_number_half_agencies": ("case_number", "agency", 2), "case_number_third_users": ("case_number", "user_id", 3),
                 "case_number_half_searches": ("case_number", None, 2)}
# ... or what benign searches give as their reason reduced to filler, as most free-text reasons
# in released logs are: each account's favourite vague reason on every search not labelled misuse
# (training and test searches keep theirs, which say so)
VAGUE_REASONS = "reasons_vague"
# ... or a quarter of the agencies' officers, plates and case numbers printed ``***``, as a Network
# Audit prints other agencies' rows since December 2025
WITHHELD = "withheld_quarter_agencies"


def _world(data: Path, seed: int, days: int = 60, searches: int = 200_000) -> Path:
    world = data / (str(seed) if (days, searches) == (60, 200_000) else f"{seed}-{days}d-{searches}")
    if not (world / "labels.csv").exists():
        from synthetic import generate

        generate(days=days, seed=seed, searches=searches).write(world)
    return world


def _independent(data: Path, seed: int) -> Path:
    """A world of the independently written generator, made once into ``data``."""
    world = data / f"independent-{seed}"
    if not (world / "labels.csv").exists():
        script = Path(__file__).resolve().parent / "independent_world.py"
        subprocess.run([sys.executable, str(script), "--seed", str(seed), "--out", str(world)], check=True, stdout=subprocess.DEVNULL)
    return world


def _without(world: Path, name: str) -> Path:
    """A copy of ``world`` without the reference file ``name``, or with the fields ``BLANK_FIELDS[name]``
    blank, or one field blank in part (``BLANK_IN_PART``), or its benign reasons vague (``VAGUE_REASONS``), or
    some agencies' rows withheld (``WITHHELD``)."""
    variant = world.with_name(f"{world.name}-without-{name}")
    if not (variant / "labels.csv").exists():
        variant.mkdir(parents=True, exist_ok=True)
        edited = name in BLANK_FIELDS or name in BLANK_IN_PART or name in (VAGUE_REASONS, WITHHELD)
        copied = ("labels.csv", *(f"{ref}.csv" for ref in REFERENCE_FILES if ref != name), *(() if edited else ("searches.csv",)))
        for file in copied:
            if (world / file).exists():
                shutil.copy(world / file, variant / file)
        if edited:
            searches = pd.read_csv(world / "searches.csv", dtype=str, keep_default_na=False)
            if name in BLANK_FIELDS:
                searches[list(BLANK_FIELDS[name])] = ""
            elif name == VAGUE_REASONS:
                from synthetic import vocab

                users = searches["user_id"].unique()
                favourite = dict(zip(users, np.random.default_rng(0).choice(vocab.VAGUE_REASONS, len(users))))
                benign = ~searches["search_id"].isin(pd.read_csv(world / "labels.csv", dtype=str)["search_id"])
                training = "|".join(re.escape(text) for text in vocab.CATEGORIES[vocab.CAT_TRAINING].texts)
                benign &= ~searches["reason"].str.contains(training, case=False)
                searches.loc[benign, "reason"] = searches.loc[benign, "user_id"].map(favourite)
            elif name == WITHHELD:
                other = searches["agency"].isin(sorted(searches["agency"].unique())[::4])
                for field in ("user_id", "plate", "case_number"):
                    searches.loc[other & (searches[field] != ""), field] = "***"
            else:
                field, by, k = BLANK_IN_PART[name]
                if by is None:
                    lost = np.random.default_rng(0).random(len(searches)) < 1 / k
                else:
                    lost = searches[by].isin(sorted(searches[by].unique())[::k])
                searches.loc[lost, field] = ""
            searches.to_csv(variant / "searches.csv", index=False)
    return variant


def _quality(world: Path, code: Path | None = None) -> Quality:
    """``world`` replayed in this process, or with the code in ``code`` in a subprocess; judged by this version's evaluate."""
    with tempfile.TemporaryDirectory() as out:
        if code is None:
            replay(world, out, progress=False)
        else:
            run = "import sys; from streams.replay import replay; replay(sys.argv[1], sys.argv[2], progress=False)"
            subprocess.run([sys.executable, "-c", run, str(world), out], cwd=code, env={**os.environ, "PYTHONPATH": str(code)},
                           check=True, stdout=subprocess.DEVNULL)
        return evaluate(world / "labels.csv", out, read_reasons(world))


def _checkout(rev: str, into: Path) -> Path:
    """The project's code at ``rev``, to replay with as it was."""
    root = Path(__file__).resolve().parent.parent
    archive = subprocess.run(["git", "-C", str(root), "archive", rev], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def compare_table(pairs: dict[str, tuple[Quality, Quality]]) -> str:
    rows = ["| seed | alert precision before (alerts) | after (alerts) | false alerts before | after | incidents missed before | after |",
            "|---|---|---|---|---|---|---|"]
    def row(label: str, before: np.ndarray, after: np.ndarray) -> str:  # each (alerts, false alerts, missed incidents)
        precision = [1 - false / max(alerts, 1) for alerts, false, _ in (before, after)]
        return (f"| {label} | {precision[0]:.3f} ({before[0]}) | {precision[1]:.3f} ({after[0]}) | "
                f"{before[1]} | {after[1]} | {before[2]} | {after[2]} |")

    counts = {seed: [np.array([q.alerts, len(q.false_alerts), len(q.missed)]) for q in pair] for seed, pair in pairs.items()}
    rows += [row(seed, *c) for seed, c in counts.items()]
    rows.append(row(f"all {len(pairs)}", *(sum(c[k] for c in counts.values()) for k in (0, 1))))
    changed = []
    for seed, (before, after) in pairs.items():
        was, now = ({m.incident_id for m in q.missed} for q in (before, after))
        changed += [f"{seed} {i}: found now" for i in sorted(was - now)] + [f"{seed} {i}: missed now" for i in sorted(now - was)]
    return "\n".join(rows + [""] + changed)


def scenario_table(qualities: dict[int | str, Quality]) -> str:
    seeds = list(qualities)
    rows = ["| scenario | " + " | ".join(f"{f'seed {s}' if isinstance(s, int) else s}: incident recall (laundered)" for s in seeds) + " |",
            "|---|" + "---|" * len(seeds)]
    for name in [s.scenario for s in qualities[seeds[0]].scenarios]:
        cells = []
        for q in qualities.values():
            sc = next((x for x in q.scenarios if x.scenario == name), None)
            cells.append("-" if sc is None else f"{sc.incident_recall:.2f} ({sc.laundered_recall:.2f}) of {sc.incidents}")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    for label, value in (("incident recall, all", lambda q: f"{q.incident_recall:.3f}"),
                         ("incident recall, no telling keyword", lambda q: f"{q.laundered_recall:.3f}"),
                         ("alert precision", lambda q: f"{q.alert_precision:.3f}"),
                         ("flagged fraction", lambda q: f"{q.flagged_fraction:.3f}"),
                         ("alerts", lambda q: f"{q.alerts}"), ("ROC-AUC", lambda q: f"{q.roc_auc:.3f}"),
                         ("average precision", lambda q: f"{q.average_precision:.3f}")):
        rows.append(f"| **{label}** | " + " | ".join(value(q) for q in qualities.values()) + " |")
    return "\n".join(rows)


def size_table(qualities: dict[tuple[int, int, int], Quality]) -> str:
    rows = ["| seed (searches, days) | alert precision (alerts) | false alerts | incidents missed | lowest scenario recall | flagged |",
            "|---|---|---|---|---|---|"]
    for (seed, days, searches), q in qualities.items():
        lowest = min(s.incident_recall for s in q.scenarios)
        rows.append(f"| {seed} ({searches:,}, {days} days) | {q.alert_precision:.3f} ({q.alerts}) | {len(q.false_alerts)} | "
                    f"{len(q.missed)} | {lowest:.2f} | {q.flagged_fraction:.4f} |")
    return "\n".join(rows)


def without_table(qualities: dict[str, Quality]) -> str:
    rows = ["| without | alert precision (alerts) | false alerts | incidents missed | flagged | scenarios under 0.95 recall |",
            "|---|---|---|---|---|---|"]
    for label, q in qualities.items():
        low = ", ".join(f"{s.scenario} {s.incident_recall:.2f}" for s in q.scenarios if s.incident_recall < 0.95) or "none"
        rows.append(f"| {label} | {q.alert_precision:.3f} ({q.alerts}) | {len(q.false_alerts)} | {len(q.missed)} | "
                    f"{q.flagged_fraction:.4f} | {low} |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[21001, 21002, 21003])
    ap.add_argument("--sizes", action="store_true", help="also the worlds across sizes (a few minutes more)")
    ap.add_argument("--compare", metavar="REV", help="also replay with the code at this git revision: the before/after table")
    variants = [*REFERENCE_FILES, *BLANK_FIELDS, *BLANK_IN_PART, VAGUE_REASONS, WITHHELD]
    ap.add_argument("--without", nargs="+", choices=variants, default=[], metavar="NAME",
                    help="also each seed's world without this reference file or with these fields blank (in part), reasons vague or rows withheld: " + ", ".join(variants))
    ap.add_argument("--independent", type=int, nargs="+", default=[], metavar="SEED",
                    help="also these seeds of the independently written generator (bench/independent_world.py)")
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "alpr-quality")
    args = ap.parse_args()
    keep_freed_memory()
    qualities = {seed: _quality(_world(args.data, seed)) for seed in args.seeds}
    print(scenario_table(qualities))
    with tempfile.TemporaryDirectory() as code:
        if args.compare:
            _checkout(args.compare, Path(code))
            print()
            print(compare_table({str(seed): (_quality(_world(args.data, seed), Path(code)), qualities[seed]) for seed in args.seeds}))
        if args.sizes:
            print()
            print(size_table({size: _quality(_world(args.data, *size)) for size in SIZES}))
        for seed in args.seeds if args.without else ():
            print()
            world = _world(args.data, seed)
            print(f"seed {seed}")
            variants = {name: _quality(_without(world, name)) for name in args.without}
            print(without_table({"nothing": qualities[seed]} | variants))
            if args.compare:  # what this version changed on each variant
                print()
                print(compare_table({name: (_quality(_without(world, name), Path(code)), q) for name, q in variants.items()}))
        if args.independent:
            worlds = {f"independent {seed}": _independent(args.data, seed) for seed in args.independent}
            outside = {label: _quality(world) for label, world in worlds.items()}
            print()
            print(scenario_table(outside))
            if args.compare:
                print()
                print(compare_table({label: (_quality(world, Path(code)), outside[label]) for label, world in worlds.items()}))


if __name__ == "__main__":
    main()
