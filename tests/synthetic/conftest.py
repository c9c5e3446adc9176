"""One small dataset per test session: the generator is deterministic, so sharing it is safe."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# This directory has the package's name and pytest puts tests/ on sys.path, where the
# directory would shadow the real package as a namespace package: the root goes first.
_ROOT = str(Path(__file__).resolve().parents[2])
if sys.path[0] != _ROOT:
    sys.path.insert(0, _ROOT)

from synthetic import SyntheticData, generate  # noqa: E402

SMALL = dict(days=20, searches=20_000, seed=11)


@pytest.fixture(scope="session")
def small() -> SyntheticData:
    return generate(**SMALL)


@pytest.fixture(scope="session")
def small_dir(small: SyntheticData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic")
    small.write(out)
    return out
