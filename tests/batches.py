"""Hand-built canonical batches for tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from detector.reference import Reference
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


def with_register(vehicles: pd.DataFrame, households: int = 300) -> pd.DataFrame:
    """``vehicles`` among ``households`` households of three plates (F0A, F0B, F0C, F1A, ...).

    A register of a few plates is met by chance by any three lookups of it; the households
    a test is about need a register of some size around them, as a real one has.
    """
    filler = pd.DataFrame({"plate": [f"F{i}{x}" for i in range(households) for x in "ABC"],
                           "household_id": [f"f{i}" for i in range(households) for _ in "ABC"],
                           "owner_surname": [f"Filler{i}" for i in range(households) for _ in "ABC"]})
    return pd.concat([vehicles, filler], ignore_index=True)


# A household, an officer's own car (rare surname), a car of a common-surname owner.
VEHICLES = pd.DataFrame({"plate": ["EX1", "KID1", "KID2", "SELF1", "GAR1"], "household_id": ["h1", "h1", "h1", "h2", "h3"],
                         "owner_surname": ["Doe", "Doe", "Doe", "Zyxwv", "Garcia"]})
# A small world for signal tests: one clinic, those cars among a register, an associate, an officer with a rare surname.
REF = Reference(
    sites=pd.DataFrame({"site_id": ["clinic"], "category": ["reproductive_health"], "name": ["Clinic"],
                        "lat": [37.77], "lon": [-122.42], "radius_m": [200.0]}),
    vehicles=with_register(VEHICLES),
    relations=pd.DataFrame({"plate_a": ["EX1"], "plate_b": ["ASSOC1"], "kind": ["associate"]}),
    agencies=pd.DataFrame({"agency": ["Town PD", "City PD", "Dallas PD", "HSI"], "state": ["CA", "CA", "TX", "US"],
                           "kind": ["local", "local", "local", "federal"]}),
    users=pd.DataFrame({"user_id": ["u1", "u2", "u3"], "agency": ["Town PD"] * 3, "surname": ["Zyxwv", "Garcia", "Lee"]}),
)


def days(n, start="2025-10-01T10:00:00Z", step="1D"):
    return [t.isoformat() for t in pd.date_range(start, periods=n, freq=step)]
