"""Subcommands that move searches: replay (and, with streaming, stream/produce/export)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from detector.cli import CliError, example_parser

if TYPE_CHECKING:
    from detector.scoring import Fusion
    from detector.suppress import Suppressions


def register(sub: argparse._SubParsersAction) -> None:
    p = example_parser(
        sub, "replay",
        "Score a historical search log (dataset directory, canonical file or vendor export) and write scores, alerts and the alert store.",
        "alpr-watch replay data/ --out results/",
    )
    p.add_argument("dataset", help="dataset directory (spec section 2) or one searches file / vendor export")
    p.add_argument("--out", required=True, help="output directory for scores.csv, alerts.jsonl, rejects.csv")
    p.add_argument("--store", help="alert store URL (sqlite:///path or postgresql://...); default: OUT/alerts.sqlite")
    p.add_argument("--policy", default="auto", help="policy pack: auto, california, illinois, washington, generic, or a YAML path")
    p.add_argument("--format", dest="fmt", choices=["canonical", "flock_portal", "flock_audit"], help="force the input format")
    p.add_argument("--agency", help="the agency a transparency-portal export belongs to")
    p.add_argument("--reference", help="directory with reference files (default: the dataset's directory)")
    p.add_argument("--model", help="trained anomaly model (alpr-watch train); default: fit one on the replayed data")
    p.add_argument("--no-model", action="store_true", help="score with rules only, no anomaly model")
    p.add_argument("--weights", help="signal weights learned from reviewers (alpr-watch feedback)")
    p.add_argument("--suppressions", metavar="YAML",
                   help="reviewers' suppression rules: scoped, expiring exceptions (see docs/detection.md)")
    p.add_argument("--scores-format", choices=["csv", "parquet"], default="csv", help="scores file format")
    p.add_argument("--store-searches", action="store_true",
                   help="keep every search in the store too, for the dashboard's evidence pages (slower: ~1 min per million on SQLite)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--report", metavar="PATH", help="also write a self-contained HTML audit report to PATH (see docs/auditing.md)")
    p.set_defaults(handler=_replay)


def reviewer_files(args: argparse.Namespace) -> tuple[Fusion | None, Suppressions | None]:
    """The fusion of ``--weights`` and the rules of ``--suppressions``, read once for replay and
    stream alike; a bad file stops the command before it reads or joins anything."""
    from detector.validate import InputError

    fusion = None
    if args.weights:
        from models.feedback import Feedback

        try:
            fusion = Feedback.load(args.weights).fusion()
        except (OSError, ValueError) as exc:
            raise CliError(f"--weights {args.weights}: {exc}") from exc
    suppressions = None
    if args.suppressions:
        from detector.suppress import load_suppressions

        try:
            suppressions = load_suppressions(args.suppressions)
        except InputError as exc:
            raise CliError(str(exc)) from exc
    return fusion, suppressions


def _replay(args: argparse.Namespace) -> int:
    from streams.memory import keep_freed_memory

    keep_freed_memory()  # this process is one replay: a batch job
    from detector.validate import InputError
    from streams.replay import replay  # imports the detector only once it reads (see there)

    fusion, suppressions = reviewer_files(args)
    try:
        summary = replay(args.dataset, args.out, store_url=args.store, policy=args.policy, fmt=args.fmt,
                         agency=args.agency, reference_dir=args.reference,
                         scores_name=f"scores.{args.scores_format}", progress=not args.no_progress,
                         model=args.model, retrospective=not args.no_model,
                         store_searches=args.store_searches, report=args.report, fusion=fusion, fork_fit=True,
                         suppressions=suppressions)
    except ValueError as exc:
        from models.persist import ModelMismatchError  # already imported if it was raised

        if not isinstance(exc, (InputError, ModelMismatchError)):
            raise
        raise CliError(str(exc)) from exc
    print("\n".join(summary.lines()))
    return 0
