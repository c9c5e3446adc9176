"""Subcommands for production streaming: stream, produce, export."""

from __future__ import annotations

import argparse

from detector.cli import CliError, example_parser, non_negative, positive
from streams.cli import reviewer_files


def _kafka_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bootstrap", required=True, help="Kafka bootstrap server(s), HOST:PORT[,HOST:PORT]")
    p.add_argument("--topic", default="alpr.searches", help="topic of the search events (default: alpr.searches)")
    p.add_argument("--partitions", type=positive(int), default=4, help="partitions when the topic has to be created (default: 4)")


def register(sub: argparse._SubParsersAction) -> None:
    p = example_parser(
        sub, "stream",
        "Score search events from Kafka as a consumer-group member, with exactly-once checkpoints in the alert store.",
        "alpr-watch stream --bootstrap kafka:9092 --group alpr-watch --store postgresql://alpr@db/alpr --reference ref/",
    )
    _kafka_options(p)
    p.add_argument("--group", required=True, help="consumer group; every instance of one stream uses the same one")
    p.add_argument("--store", required=True, help="alert store URL (sqlite:///path or postgresql://...)")
    p.add_argument("--reference", help="directory with reference files (spec section 2)")
    p.add_argument("--policy", default="auto", help="policy pack: auto, california, illinois, washington, generic, or a YAML path")
    p.add_argument("--model", help="trained anomaly model (alpr-watch train); default: rules only")
    p.add_argument("--weights", help="signal weights learned from reviewers (alpr-watch feedback), as replay --weights")
    p.add_argument("--suppressions", metavar="YAML", help="reviewers' suppression rules, as replay --suppressions")
    p.add_argument("--exit-when-idle", type=positive(), metavar="SECONDS", help="stop after this long without messages")
    p.add_argument("--metrics-port", type=positive(int), help="serve Prometheus metrics on this port")
    p.add_argument("--commit-interval", type=positive(), default=1.0, metavar="SECONDS",
                   help="seconds between checkpoints (default 1; stretched when encoding the state gets slow)")
    p.add_argument("--idle-grace", type=non_negative(), default=2.0, metavar="SECONDS",
                   help="how long a caught-up partition must stay quiet before it stops holding back event time (default 2)")
    p.add_argument("--max-poll-interval-ms", type=positive(int), default=30_000,
                   help="kafka-python's rebalance timeout: how long a group waits for members to join (default 30000)")
    p.add_argument("--session-timeout-ms", type=positive(int), default=10_000,
                   help="how long a silent instance keeps its partitions (default 10000)")
    p.add_argument("--max-poll-records", type=positive(int), default=20_000, help="messages per batch at most (default 20000)")
    p.add_argument("--fetch-max-wait-ms", type=non_negative(int), default=20,
                   help="how long the broker may hold a fetch that finds nothing new; the input and every hop between "
                        "instances can wait that long (default 20)")
    p.add_argument("--log-interval", type=positive(), default=10.0, metavar="SECONDS", help="seconds between progress lines")
    p.add_argument("--rules-interval", type=positive(), default=30.0, metavar="SECONDS",
                   help="seconds between readings of the suppression rules supervisors write or revoke in the dashboard "
                        "(default 30)")
    p.set_defaults(handler=_stream)

    p = example_parser(
        sub, "produce",
        "Send a search log (canonical file or vendor export) to Kafka, keyed by agency, in time order.",
        "alpr-watch produce data/searches.csv --bootstrap kafka:9092 --topic alpr.searches --rate 1000",
    )
    p.add_argument("file", help="dataset directory, canonical searches file or vendor export")
    _kafka_options(p)
    p.add_argument("--rate", type=positive(), help="searches per second at most (default: as fast as possible)")
    p.add_argument("--format", dest="fmt", choices=["canonical", "flock_portal", "flock_audit"], help="force the input format")
    p.add_argument("--agency", help="the agency a transparency-portal export belongs to")
    p.set_defaults(handler=_produce)

    p = example_parser(
        sub, "export",
        "Write the scores and alerts held in an alert store as scores.csv and alerts.jsonl (the form replay writes).",
        "alpr-watch export --store postgresql://alpr@db/alpr --out results/",
    )
    p.add_argument("--store", required=True, help="alert store URL (sqlite:///path or postgresql://...)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--scores-format", choices=["csv", "parquet"], default="csv", help="scores file format")
    p.set_defaults(handler=_export)


def _settings(args: argparse.Namespace):
    from streams.kafka_io import KafkaSettings

    extra = {}
    if getattr(args, "max_poll_interval_ms", None):
        extra = {"max_poll_interval_ms": args.max_poll_interval_ms, "session_timeout_ms": args.session_timeout_ms,
                 "fetch_max_wait_ms": args.fetch_max_wait_ms}
    return KafkaSettings(args.bootstrap, **extra)


def _stream(args: argparse.Namespace) -> int:
    import signal
    import threading

    from detector.validate import InputError
    from models.persist import ModelMismatchError
    from streams.stream import StreamConfig, run_stream

    stop = threading.Event()

    def _stop(signum, _frame) -> None:
        # finish the batch in hand, commit, leave the group
        stop.set()

    fusion, suppressions = reviewer_files(args)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    config = StreamConfig(
        kafka=_settings(args), topic=args.topic, group=args.group, store_url=args.store, reference=args.reference,
        policy=args.policy, model=args.model, fusion=fusion, suppressions=suppressions,
        exit_when_idle=args.exit_when_idle, metrics_port=args.metrics_port,
        commit_interval=args.commit_interval, idle_grace=args.idle_grace, partitions=args.partitions,
        max_poll_records=args.max_poll_records, log_interval=args.log_interval, rules_interval=args.rules_interval,
    )
    try:
        summary = run_stream(config, stop=stop)
    except (InputError, ModelMismatchError) as exc:
        raise CliError(str(exc)) from exc
    print("\n".join(summary.lines()))
    return 0


def _produce(args: argparse.Namespace) -> int:
    from detector.validate import InputError
    from streams.produce import produce_file

    try:
        summary = produce_file(args.file, _settings(args), args.topic, rate=args.rate, fmt=args.fmt, agency=args.agency,
                               partitions=args.partitions)
    except InputError as exc:
        raise CliError(str(exc)) from exc
    print("\n".join(summary.lines()))
    return 0


def _export(args: argparse.Namespace) -> int:
    from streams.export import export

    for path in export(args.store, args.out, f"scores.{args.scores_format}"):
        print(f"wrote {path}")
    return 0
