"""Broker, database and dataset fixtures for the streaming tests (nothing here is autouse)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from kafka_broker import TansuBroker, cli, write_dataset  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def broker():
    with TansuBroker() as b:
        yield b


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"t_stream_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError:
        pytest.skip("no PostgreSQL at 127.0.0.1:5432")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as c:
        c.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory) -> dict[str, Path]:
    """8,000 synthetic searches over two weeks, and what a replay without a model makes of them."""
    root = tmp_path_factory.mktemp("small")
    data = write_dataset(root / "data", days=14, searches=8_000)
    cli("replay", str(data), "--out", str(root / "replay"), "--no-model", "--no-progress")
    return {"data": data, "replay": root / "replay"}


@pytest.fixture
def small_replay(monkeypatch):
    """Replays (and model fits) read in ``chunk``-row batches, learning from ``history`` searches, sampling ``sample``."""
    import functools

    import models.train
    import streams.replay
    from streams.sources import open_searches

    def configure(chunk: int, history: int, sample: int) -> None:
        chunked = functools.partial(open_searches, chunk_rows=chunk)
        monkeypatch.setattr(streams.replay, "open_searches", chunked)
        monkeypatch.setattr(models.train, "open_searches", chunked)
        monkeypatch.setattr(streams.replay, "RETROSPECTIVE_SEARCHES", history)
        monkeypatch.setattr(streams.replay, "RETROSPECTIVE_SAMPLE", sample)

    return configure
