"""Synthetic ALPR search audit logs with labelled misuse, for tests, benchmarks and streams.

Attributes load lazily, so that registering the CLI subcommand does not import pandas.

>>> from synthetic import generate
>>> data = generate(days=14, searches=8_000)
>>> sorted(data.labels["scenario"].unique())[:2]
['associates', 'bulk_fishing']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .dataset import SyntheticData
    from .pipeline import generate

__all__ = ["SyntheticData", "generate"]


def __getattr__(name: str) -> Any:
    if name == "generate":
        from .pipeline import generate

        return generate
    if name == "SyntheticData":
        from .dataset import SyntheticData

        return SyntheticData
    raise AttributeError(f"module 'synthetic' has no attribute {name!r}")
