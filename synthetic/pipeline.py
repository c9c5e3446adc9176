"""Puts world, benign traffic and misuse together into one reproducible dataset."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from tqdm import tqdm

from detector.schema import FIELD_NAMES, LABEL_COLUMNS

from .benign import generate_benign
from .clock import Period
from .dataset import SyntheticData
from .events import to_canonical
from .scenarios import generate_misuse
from .world import EXPORT_OWNER, build_world, uuid4_array

# Released exports changed in December 2025 (dropdown reasons, redacted names); the
# default period straddles that month so both sides are present whatever its length.
_PIVOT = pd.Timestamp("2025-12-01")


def default_start(days: int) -> pd.Timestamp:
    """Start such that 1 December 2025 falls 40% into the period."""
    return _PIVOT - pd.Timedelta(days=round(days * 0.4))


def generate(
    days: int = 60, seed: int = 7, searches: int = 200_000, start: str | dt.date | pd.Timestamp | None = None,
    *, progress: bool = False,
) -> SyntheticData:
    """A synthetic audit log of ``searches`` searches over ``days`` days with labelled misuse.

    The same arguments always give the same data. The reason dropdown appears two thirds
    into the period. ``progress`` shows a bar over the generation steps.
    """
    if days < 7:
        raise ValueError("days must be at least 7, so that incidents spanning days fit")
    first = default_start(days) if start is None else pd.Timestamp(start)
    if first.tzinfo is not None:
        first = first.tz_convert("UTC").tz_localize(None)
    period = Period(first_day=first.normalize(), days=days, switch_day=round(days * 2 / 3))
    seeds = np.random.SeedSequence(seed).spawn(4)
    world_rng, misuse_rng, benign_rng, id_rng = (np.random.default_rng(s) for s in seeds)

    steps = tqdm(total=5, desc="synthesize", unit="step", disable=not progress, leave=False)
    world = build_world(world_rng, days)
    steps.update()
    misuse = generate_misuse(misuse_rng, world, period, searches)
    n_misuse = sum(len(f) for f in misuse)
    if n_misuse * 4 > searches:
        raise ValueError(f"{searches} searches are too few: misuse alone takes {n_misuse}")
    steps.update()
    benign = generate_benign(benign_rng, world, period, searches - n_misuse)
    steps.update()
    frame = to_canonical(benign + misuse)
    frame["search_id"] = uuid4_array(id_rng, len(frame))
    steps.update()
    labels = frame.loc[frame["scenario"] != "", list(LABEL_COLUMNS)]
    labels = labels.sort_values("incident_id", kind="mergesort", ignore_index=True)
    data = SyntheticData(
        searches=frame[list(FIELD_NAMES)].copy(), sites=world.sites, vehicles=world.vehicles_frame(),
        relations=world.relations, agencies=world.agencies_frame(), users=world.users_frame(), labels=labels,
        roster=world.roster(), agency_specs=world.agencies, export_owner=EXPORT_OWNER, seed=seed,
        start=period.start, days=days, switch_date=period.switch,
    )
    steps.update()
    steps.close()
    return data
