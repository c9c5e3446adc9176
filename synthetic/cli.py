"""`alpr-watch synthesize`: write a synthetic dataset directory (spec sections 1 to 4), and
optionally put its searches on Kafka the way `alpr-watch produce` does, to feed a stream."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from detector.cli import CliError, example_parser, positive

# Kept literal so that --help does not import pandas; tests check it matches dataset.FORMATS.
FORMATS = ("csv", "jsonl", "parquet")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``synthesize``; the handler imports the generator itself so that --help stays fast."""
    p = example_parser(
        subparsers, "synthesize",
        "Generate a synthetic ALPR search audit log with labelled misuse, reference files and vendor exports; "
        "with --to-kafka, also publish the searches to a Kafka topic for 'alpr-watch stream' (which takes the "
        "reference files written to --out as its --reference).",
        "alpr-watch synthesize --days 60 --seed 7 --out data/\n"
        "  alpr-watch synthesize --days 7 --searches 20000 --out ref/ --to-kafka --bootstrap kafka:9092 --rate 1000",
    )
    p.add_argument("--out", type=Path, required=True, help="directory to write into (created if missing)")
    p.add_argument("--days", type=positive(int), default=60, help="length of the period in days (default 60)")
    p.add_argument("--seed", type=int, default=7, help="random seed; the same seed writes identical files (default 7)")
    p.add_argument("--searches", type=positive(int), default=200_000, help="number of searches (default 200000)")
    p.add_argument("--start", help="first day, YYYY-MM-DD (default: 1 December 2025 falls 40%% into the period)")
    p.add_argument("--format", choices=FORMATS, default="csv", help="searches file format (default csv)")
    p.add_argument("--xlsx", action="store_true", help="also write the Network Audit export as .xlsx")
    kafka = p.add_argument_group("publishing to Kafka")
    kafka.add_argument("--to-kafka", action="store_true",
                       help="after writing the files, send the searches to --topic as 'alpr-watch produce' sends the "
                            "searches file: canonical JSON, keyed by agency, in time order")
    kafka.add_argument("--bootstrap", help="Kafka bootstrap server(s), HOST:PORT[,HOST:PORT] (needed with --to-kafka)")
    kafka.add_argument("--topic", default="alpr.searches", help="topic to send to (default: alpr.searches)")
    kafka.add_argument("--partitions", type=positive(int), default=4, help="partitions when the topic has to be created (default: 4)")
    kafka.add_argument("--rate", type=positive(), help="searches per second at most (default: as fast as possible)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from .pipeline import generate

    if args.to_kafka and not args.bootstrap:
        raise CliError("--to-kafka needs --bootstrap HOST:PORT")
    began = time.perf_counter()
    try:
        data = generate(days=args.days, seed=args.seed, searches=args.searches, start=args.start, progress=True)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    paths = data.write(args.out, format=args.format, xlsx=args.xlsx, progress=True)
    counts = data.scenario_counts()
    share = len(data.labels) / max(len(data.searches), 1)
    print(f"{len(data.searches):,} searches, {data.days} days from {data.start:%Y-%m-%d}, seed {args.seed}: "
          f"{len(data.labels):,} misuse ({share:.2%}) in {counts['incidents'].sum()} incidents")
    for scenario, row in counts.iterrows():
        print(f"  {scenario:<17} {row['searches']:>6,} searches  {row['incidents']:>3} incidents")
    print(f"wrote {len(paths)} files to {args.out} in {time.perf_counter() - began:.1f} s:")
    for path in paths:
        print(f"  {path.name}")
    if args.to_kafka:
        _publish(next(path for path in paths if path.stem == "searches"), args)
    return 0


def _publish(searches: Path, args: argparse.Namespace) -> None:
    """The written searches file through ``produce``, so the topic holds exactly what producing that file would send."""
    from streams.kafka_io import KafkaSettings
    from streams.produce import produce_file

    summary = produce_file(searches, KafkaSettings(args.bootstrap), args.topic, rate=args.rate, partitions=args.partitions)
    print(f"to Kafka topic {args.topic}: " + "\n".join(summary.lines()))
