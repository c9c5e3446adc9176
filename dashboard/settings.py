"""Where the dashboard finds its store, users and reference data.

The CLI hands these to the Streamlit process through the environment rather than
its arguments, so a store URL with a database password never shows in ``ps``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

STORE = "ALPR_WATCH_STORE"
USERS = "ALPR_WATCH_USERS"
REFERENCE = "ALPR_WATCH_REFERENCE"
HOME_STATE = "ALPR_WATCH_HOME_STATE"
REFRESH = "ALPR_WATCH_REFRESH"
DEFAULT_USERS_FILE = "users.toml"


@dataclass(frozen=True)
class Settings:
    store_url: str
    users_file: Path
    reference_dir: Path | None = None
    home_state: str | None = None
    refresh_seconds: float = 15.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        if not env.get(STORE):
            raise RuntimeError(f"{STORE} is not set: start the dashboard with 'alpr-watch dashboard --store URL'")
        return cls(
            store_url=env[STORE],
            users_file=Path(env.get(USERS) or DEFAULT_USERS_FILE),
            reference_dir=Path(env[REFERENCE]) if env.get(REFERENCE) else None,
            home_state=(env.get(HOME_STATE) or "").upper() or None,
            refresh_seconds=float(env.get(REFRESH) or 15.0),
        )

    def to_env(self) -> dict[str, str]:
        env = {STORE: self.store_url, USERS: str(self.users_file), REFRESH: str(self.refresh_seconds)}
        if self.reference_dir is not None:
            env[REFERENCE] = str(self.reference_dir)
        if self.home_state:
            env[HOME_STATE] = self.home_state
        return env
