"""What is usual for an account, so a reviewer can see how far an episode departs from it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

BASELINE_DAYS = 90
NATIONWIDE_NETWORKS = 100  # the detector's "reached 100+ networks"
MIN_HISTORY = 20  # fewer searches say nothing about working hours
USUAL_HOUR_SHARE = 0.02  # an hour holding at least this share of the searches is a working hour


def usual_hours(ts: pd.Series) -> list[int]:
    """UTC hours the account usually searches in; empty without enough history."""
    if len(ts) < MIN_HISTORY:
        return []
    share = ts.dt.hour.value_counts(normalize=True)
    return sorted(int(h) for h, s in share.items() if s >= USUAL_HOUR_SHARE)


def hour_profile(baseline: pd.Series, episode: pd.Series) -> pd.DataFrame:
    """Share of searches per UTC hour before the episode and during it."""
    hours = pd.RangeIndex(24, name="hour")
    out = pd.DataFrame(index=hours)
    for name, ts in (("baseline", baseline), ("episode", episode)):
        counts = ts.dt.hour.value_counts().reindex(hours, fill_value=0)
        out[name] = counts / counts.sum() if counts.sum() else 0.0
    return out.reset_index()


@dataclass(frozen=True)
class Baseline:
    searches: int
    active_days: int
    per_active_day: float
    with_case: float
    with_reason: float
    nationwide: float
    hours: list[int]
    types: dict[str, int]

    def lines(self) -> list[tuple[str, str]]:
        return [
            ("Searches", f"{self.searches:,} on {self.active_days} day(s)"),
            ("Per active day (median)", f"{self.per_active_day:.1f}"),
            ("With a case number", f"{self.with_case:.0%}"),
            ("With a stated reason", f"{self.with_reason:.0%}"),
            (f"Reaching {NATIONWIDE_NETWORKS}+ networks", f"{self.nationwide:.0%}"),
            ("Usual hours (UTC)", hour_ranges(self.hours) or "not enough history"),
            ("Search types", ", ".join(f"{k} {v}" for k, v in self.types.items()) or "not recorded"),
        ]


def baseline(frame: pd.DataFrame) -> Baseline:
    """The account's habits over ``frame`` (its searches before the episode)."""
    n = len(frame)
    if not n:
        return Baseline(0, 0, 0.0, 0.0, 0.0, 0.0, [], {})
    per_day = frame.groupby(frame["ts"].dt.date).size()
    return Baseline(
        searches=n,
        active_days=len(per_day),
        per_active_day=float(per_day.median()),
        with_case=float(frame["case_number"].notna().mean()),
        with_reason=float(frame["reason"].notna().mean()),
        nationwide=float((frame["networks_searched"].fillna(0) >= NATIONWIDE_NETWORKS).mean()),
        hours=usual_hours(frame["ts"]),
        types={str(k): int(v) for k, v in frame["search_type"].value_counts().items()},
    )


def hour_ranges(hours: list[int]) -> str:
    """``[7, 8, 9, 13]`` as ``07-10h, 13-14h``."""
    spans: list[list[int]] = []
    for h in sorted(hours):
        if spans and h == spans[-1][1]:
            spans[-1][1] = h + 1
        else:
            spans.append([h, h + 1])
    return ", ".join(f"{a:02d}-{b:02d}h" for a, b in spans)


def peer_position(peers: pd.DataFrame, user_id: str) -> tuple[int, float, float]:
    """The account's search count, the share of peers it exceeds, and the peers' median."""
    own = peers.loc[peers["user_id"] == user_id, "searches"]
    count = int(own.iloc[0]) if len(own) else 0
    others = peers.loc[peers["user_id"] != user_id, "searches"]
    if not len(others):
        return count, 0.0, 0.0
    return count, float((others < count).mean()), float(others.median())
