"""Hand-built canonical batches for tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from detector.validate import RejectCounter, canonicalize


def make_batch(rows: list[dict]) -> pd.DataFrame:
    """A canonical batch from dicts of raw values; defaults fill the required fields."""
    filled = []
    for i, r in enumerate(rows):
        base = {"search_id": f"s{i}", "ts": "2025-10-01T10:00:00Z", "user_id": "u1", "agency": "Town PD", "agency_state": "CA"}
        base.update({k: ("" if v is None else str(v)) for k, v in r.items()})
        filled.append(base)
    sink = RejectCounter()
    batch = canonicalize(pd.DataFrame(filled), "test", np.arange(2, len(rows) + 2), sink)
    assert not sink.items, sink.items
    return batch
