"""Subcommands of the internal-affairs dashboard: ``dashboard`` serves it, ``dashboard-user`` manages its accounts."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from detector.cli import CliError, example_parser, positive

APP = Path(__file__).with_name("app.py")


def register(sub: argparse._SubParsersAction) -> None:
    p = example_parser(
        sub, "dashboard",
        "Serve the internal-affairs dashboard (alert queue, evidence, review, case files) over an alert store.",
        "alpr-watch dashboard --store results/alerts.sqlite --users users.toml --reference data/",
    )
    p.add_argument("--store", required=True, help="alert store URL (sqlite:///path, postgresql://...) or path of a SQLite file")
    p.add_argument("--port", type=positive(int), default=8501, help="port to serve on (default 8501)")
    p.add_argument("--address", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; use 0.0.0.0 only behind a TLS proxy)")
    p.add_argument("--users", default="users.toml", help="users file made with 'alpr-watch dashboard-user' (default users.toml)")
    p.add_argument("--reference", help="directory holding sites.csv, for the map of sensitive sites")
    p.add_argument("--home-state", help="two-letter state of the network, for the out-of-state share (default: the commonest)")
    p.add_argument("--refresh", type=positive(), default=15.0, help="seconds between refreshes of the alert queue (default 15)")
    p.set_defaults(handler=_dashboard)

    u = example_parser(
        sub, "dashboard-user", "Add, remove or list dashboard accounts in the users file.",
        "alpr-watch dashboard-user add ia.smith --role reviewer --users users.toml",
    )
    actions = u.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="create an account (or change it with --replace)")
    add.add_argument("name", help="username")
    add.add_argument("--role", required=True, choices=["reviewer", "supervisor", "auditor"], help="what the account may do")
    add.add_argument("--email", default="", help="e-mail of the account at the single-sign-on provider, if used")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input instead of prompting")
    add.add_argument("--replace", action="store_true", help="overwrite an existing account's role and password")
    remove = actions.add_parser("remove", help="delete an account")
    remove.add_argument("name", help="username")
    actions.add_parser("list", help="list accounts and roles")
    for parser in (add, remove, actions.choices["list"]):
        parser.add_argument("--users", default="users.toml", help="users file (default users.toml)")
    u.set_defaults(handler=_dashboard_user)


def store_url(value: str) -> str:
    """A URL as given; a bare path means a SQLite file, which has to exist (a typo should not make an empty store)."""
    if "://" in value:
        path = value.removeprefix("sqlite:///") if value.startswith("sqlite:///") else None
    else:
        path, value = value, f"sqlite:///{Path(value).resolve()}"
    if path is not None and not Path(path).is_file():
        raise CliError(f"no alert store at {path} (run 'alpr-watch replay' first)")
    return value


def _dashboard(args: argparse.Namespace) -> int:
    from dashboard.auth import UsersFileError, load_accounts
    from dashboard.settings import Settings

    try:
        if not load_accounts(Path(args.users)):
            raise CliError(f"{args.users}: no accounts; add one with 'alpr-watch dashboard-user add NAME --role supervisor'")
    except UsersFileError as exc:
        raise CliError(str(exc)) from exc
    if args.reference and not Path(args.reference, "sites.csv").is_file():
        print(f"note: {args.reference} holds no sites.csv; the map will show searched areas only", file=sys.stderr)
    settings = Settings(store_url=store_url(args.store), users_file=Path(args.users).resolve(),
                        reference_dir=Path(args.reference).resolve() if args.reference else None,
                        home_state=args.home_state.upper() if args.home_state else None, refresh_seconds=args.refresh)
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(args.port), "--server.address", args.address, "--server.headless", "true",
        "--server.fileWatcherType", "none", "--server.runOnSave", "false", "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
    ]
    print(f"alpr-watch dashboard on http://{args.address}:{args.port}", file=sys.stderr, flush=True)
    os.execve(sys.executable, command, {**os.environ, **settings.to_env()})


def _dashboard_user(args: argparse.Namespace) -> int:
    from dashboard.auth import UsersFileError, add_account, load_accounts, remove_account

    path = Path(args.users)
    try:
        if args.action == "list":
            for a in sorted(load_accounts(path).values(), key=lambda a: a.username):
                print(f"{a.username}\t{a.role}" + (f"\t{a.email}" if a.email else ""))
        elif args.action == "remove":
            remove_account(path, args.name)
            print(f"removed {args.name} from {path}")
        else:
            add_account(path, args.name, args.role, _password(args.password_stdin), args.email, args.replace)
            print(f"{'updated' if args.replace else 'added'} {args.name} ({args.role}) in {path}")
    except (UsersFileError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    return 0


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise CliError("the passwords differ")
    return first
