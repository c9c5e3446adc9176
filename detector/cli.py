"""The one `alpr-watch` command: each package registers its own subcommands here.

Handlers import their heavy dependencies themselves, so `alpr-watch --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable

# Modules that expose ``register(subparsers)``; order is the order --help lists them.
COMMAND_MODULES = (
    "synthetic.cli",
    "streams.cli",
    "streams.stream_cli",
    "models.cli",
    "detector.evaluate_cli",
    "dashboard.cli",
)


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alpr-watch",
        description="Audit ALPR search logs for misuse and informal data sharing.",
        epilog="Run 'alpr-watch COMMAND --help' for the options and an example of each command.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def example_parser(sub: argparse._SubParsersAction, name: str, help: str, example: str) -> argparse.ArgumentParser:
    """A subcommand parser whose --help ends with a runnable example."""
    return sub.add_parser(
        name,
        help=help,
        description=help,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _bounded(kind: Callable[[str], float], strict: bool) -> Callable[[str], float]:
    bound = "> 0" if strict else ">= 0"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not (value > 0 if strict else value >= 0):
            raise argparse.ArgumentTypeError(f"expected a number {bound}, got {text!r}")
        return value

    return parse


def positive(kind: Callable[[str], float] = float) -> Callable[[str], float]:
    """An option's type: ``kind`` of its text, refused unless above zero (an interval of
    zero would spin, a size of zero is nothing), with the option named in the message."""
    return _bounded(kind, strict=True)


def non_negative(kind: Callable[[str], float] = float) -> Callable[[str], float]:
    """As ``positive``, zero allowed (a grace period or a wait of none)."""
    return _bounded(kind, strict=False)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # the Kafka client's connection and group chatter: its warnings always, the rest with --verbose
    logging.getLogger("kafka").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        return int(args.handler(args) or 0)
    except CliError as exc:
        print(f"alpr-watch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # what was written so far is partial; the next run starts over (a stream resumes from its checkpoint)
        print(f"alpr-watch {args.command}: interrupted; its outputs may be incomplete", file=sys.stderr)
        return 130


if __name__ == "__main__":
    # run the imported module's main: the subcommands raise ``detector.cli.CliError``, not ``__main__.CliError``
    from detector.cli import main as imported_main

    sys.exit(imported_main())
