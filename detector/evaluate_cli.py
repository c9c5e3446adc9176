"""The `evaluate` subcommand."""

from __future__ import annotations

import argparse
from pathlib import Path

from detector.cli import CliError, example_parser


def register(sub: argparse._SubParsersAction) -> None:
    p = example_parser(
        sub, "evaluate",
        "Measure detection quality of a replay against ground-truth labels: per-scenario search and incident recall, "
        "alert precision, flagged fraction, ROC-AUC and average precision; then the incidents missed (with their best "
        "score) and the false alerts (with their strongest signal), by id.",
        "alpr-watch evaluate --labels data/labels.csv --results results/ --json quality.json",
    )
    p.add_argument("--labels", required=True, help="labels.csv (search_id,scenario,incident_id)")
    p.add_argument("--results", required=True, help="replay output directory (scores.csv, alerts.jsonl)")
    p.add_argument("--dataset", help="searches file or directory, to tell laundered incidents apart (default: the labels' directory)")
    p.add_argument("--json", help="also write the figures as JSON to this path")
    p.set_defaults(handler=_evaluate)


def _evaluate(args: argparse.Namespace) -> int:
    from detector.evaluate import evaluate, read_reasons
    from detector.validate import InputError

    try:
        source = args.dataset or Path(args.labels).parent
        try:
            searches = read_reasons(source)
        except InputError:
            if args.dataset:
                raise
            searches = None
        quality = evaluate(args.labels, args.results, searches)
    except (InputError, FileNotFoundError) as exc:
        raise CliError(str(exc)) from exc
    print(quality.table())
    if args.json:
        Path(args.json).write_text(quality.to_json(), encoding="utf-8")
        print(f"wrote {args.json}")
    return 0
