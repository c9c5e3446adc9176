"""Who may use the dashboard and what each role may do.

Accounts live in a small TOML file next to the deployment (username, role, bcrypt
hash, optional e-mail for single sign-on), so an internal-affairs unit can run the
dashboard without a directory service, and the file is re-read when it changes so
that removing someone takes effect on their next click.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import bcrypt

ROLES = ("reviewer", "supervisor", "auditor")
# The auditor checks the unit's work: it may read and reveal (logged), never decide or hand out files.
PERMISSIONS: dict[str, frozenset[str]] = {
    "reviewer": frozenset({"view", "reveal", "assign", "dispose", "export"}),
    # silencing a signal for weeks weighs more than deciding one alert: supervisors only
    "supervisor": frozenset({"view", "reveal", "assign", "dispose", "export", "access_log", "suppress"}),
    "auditor": frozenset({"view", "reveal"}),
}
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,254}$")
MIN_PASSWORD = 10
MAX_PASSWORD_BYTES = 72  # bcrypt ignores (bcrypt 5 rejects) anything longer
# Compared against when the username is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds=12))


class UsersFileError(Exception):
    """The users file is missing, unreadable or holds an invalid entry."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, as every page and every log entry sees them."""

    username: str
    role: str

    def can(self, action: str) -> bool:
        return action in PERMISSIONS.get(self.role, frozenset())


def require(viewer: Viewer, action: str) -> None:
    """Refuse in the data layer too, so a hidden button is never the only guard."""
    if not viewer.can(action):
        raise PermissionError(f"role {viewer.role!r} may not {action}")


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    password_hash: str = ""
    email: str = ""


def hash_password(password: str, rounds: int = 12) -> str:
    check_password(password)
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError(f"the password may have at most {MAX_PASSWORD_BYTES} bytes")


def load_accounts(path: Path) -> dict[str, Account]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsersFileError(f"{path}: no users file; create one with 'alpr-watch dashboard-user add NAME --role reviewer'") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsersFileError(f"{path}: not a valid TOML users file ({exc})") from exc
    accounts: dict[str, Account] = {}
    for i, entry in enumerate(data.get("users", []), start=1):
        try:
            account = Account(str(entry["username"]), str(entry["role"]), str(entry.get("password_hash", "")),
                              str(entry.get("email", "")))
        except (KeyError, TypeError) as exc:
            raise UsersFileError(f"{path}: user entry {i} needs a username and a role") from exc
        if account.role not in ROLES:
            raise UsersFileError(f"{path}: user {account.username!r} has unknown role {account.role!r} (use {', '.join(ROLES)})")
        accounts[account.username] = account
    return accounts


def save_accounts(path: Path, accounts: dict[str, Account]) -> None:
    """Write atomically and readable by the owner only: the file holds password hashes."""
    lines = ["# alpr-watch dashboard users; edit with 'alpr-watch dashboard-user'", ""]
    for a in sorted(accounts.values(), key=lambda a: a.username):
        # a JSON string is a valid TOML basic string
        lines += ["[[users]]", f"username = {json.dumps(a.username)}", f"role = {json.dumps(a.role)}",
                  f"password_hash = {json.dumps(a.password_hash)}"]
        if a.email:
            lines.append(f"email = {json.dumps(a.email)}")
        lines.append("")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    os.replace(tmp, path)


def add_account(path: Path, username: str, role: str, password: str, email: str = "", replace: bool = False,
                rounds: int = 12) -> Account:
    if not USERNAME.match(username):
        raise ValueError("a username may hold letters, digits and . _ @ + - (starting with a letter or digit)")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (use {', '.join(ROLES)})")
    accounts = load_accounts(path) if Path(path).exists() else {}
    if username in accounts and not replace:
        raise ValueError(f"user {username!r} exists; pass --replace to change their role or password")
    account = Account(username, role, hash_password(password, rounds), email)
    accounts[username] = account
    save_accounts(path, accounts)
    return account


def remove_account(path: Path, username: str) -> None:
    accounts = load_accounts(path)
    if accounts.pop(username, None) is None:
        raise ValueError(f"no user {username!r} in {path}")
    save_accounts(path, accounts)


class AccountBook:
    """The users file, re-read whenever it changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._stamp: tuple[int, int] | None = None
        self._accounts: dict[str, Account] = {}
        self._lock = threading.Lock()

    def accounts(self) -> dict[str, Account]:
        with self._lock:
            try:
                st = self.path.stat()
            except FileNotFoundError:
                self._stamp, self._accounts = None, {}
                raise UsersFileError(f"{self.path}: no users file; create one with 'alpr-watch dashboard-user add NAME --role reviewer'") from None
            stamp = (st.st_mtime_ns, st.st_size)
            if stamp != self._stamp:
                self._accounts, self._stamp = load_accounts(self.path), stamp
            return self._accounts

    def verify(self, username: str, password: str) -> Viewer | None:
        account = self.accounts().get(username)
        hashed = account.password_hash.encode() if account and account.password_hash else _DUMMY_HASH
        try:
            ok = bcrypt.checkpw(password.encode()[:MAX_PASSWORD_BYTES], hashed)
        except ValueError:  # a malformed hash in the file
            ok = False
        return Viewer(account.username, account.role) if ok and account else None

    def by_email(self, email: str) -> Viewer | None:
        """The account a single-sign-on identity maps to: signing in is not being authorised."""
        email = email.strip().lower()
        for a in self.accounts().values():
            if email and email in (a.email.lower(), a.username.lower()):
                return Viewer(a.username, a.role)
        return None

    def current(self, viewer: Viewer) -> Viewer | None:
        """The viewer as the file now has them: None once removed, the new role once changed."""
        account = self.accounts().get(viewer.username)
        return Viewer(account.username, account.role) if account else None

    def assignable(self) -> list[str]:
        return sorted(a.username for a in self.accounts().values() if "dispose" in PERMISSIONS[a.role])


class Throttle:
    """Slows password guessing: after ``limit`` failures a username is locked for ``window`` seconds."""

    def __init__(self, limit: int = 5, window: float = 900.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def locked(self, username: str) -> bool:
        with self._lock:
            recent = [t for t in self._failures.pop(username, []) if time.monotonic() - t < self.window]
            if recent:
                self._failures[username] = recent
            return len(recent) >= self.limit

    def failed(self, username: str) -> None:
        with self._lock:
            self._failures.setdefault(username, []).append(time.monotonic())

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username, None)
