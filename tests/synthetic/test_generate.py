"""The generated data keeps the contract of spec sections 1 to 3 and carries the promised patterns."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from detector.schema import (
    FIELD_NAMES,
    FIELDS,
    LABEL_COLUMNS,
    REFERENCE_FILES,
    SEARCH_TYPES,
    SITE_CATEGORIES,
    normalize_plates,
)
from synthetic import SyntheticData, generate
from synthetic.scenarios import SCENARIOS

EXPLICIT = re.compile(r"\b(?:ICE|HSI|ERO|immigration|abortion|No Kings|mosque|protest)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def merged(small: SyntheticData) -> pd.DataFrame:
    out = small.searches.merge(small.labels, on="search_id", how="left")
    out["scenario"] = out["scenario"].fillna("")
    return out


def test_searches_have_canonical_columns_and_dtypes(small: SyntheticData) -> None:
    s = small.searches
    assert tuple(s.columns) == FIELD_NAMES
    for f in FIELDS:
        col = s[f.name]
        if f.kind == "str":
            assert col.dtype == pd.StringDtype(na_value=np.nan), f.name
            assert not col.isna().any(), f.name
        elif f.kind == "ts":
            assert str(col.dtype) == "datetime64[ns, UTC]", f.name
        else:
            assert col.dtype == np.float64, f.name
    for name in ("search_id", "ts", "user_id", "agency"):
        assert not (s[name].isna() | (s[name].astype(str) == "")).any(), name
    assert set(s["search_type"]) <= set(SEARCH_TYPES)


def test_size_period_and_unique_ids(small: SyntheticData) -> None:
    s = small.searches
    assert len(s) == 20_000
    assert s["search_id"].is_unique
    assert s["ts"].is_monotonic_increasing
    assert s["ts"].min() >= small.start
    assert s["ts"].max() < small.start + pd.Timedelta(days=small.days)
    assert small.start < pd.Timestamp("2025-12-01", tz="UTC") < small.switch_date


def test_every_scenario_has_several_incidents(small: SyntheticData) -> None:
    labels = small.labels
    assert tuple(labels.columns) == LABEL_COLUMNS
    counts = small.scenario_counts()
    assert set(counts.index) == set(SCENARIOS)
    assert (counts["incidents"] >= 4).all()
    assert labels["search_id"].isin(small.searches["search_id"]).all()
    assert labels["search_id"].is_unique
    prefix = labels["incident_id"].str.rsplit("-", n=1).str[0].str.replace("-", "_")
    assert (prefix == labels["scenario"]).all()


@pytest.mark.slow
def test_misuse_is_a_small_share_at_default_size() -> None:
    data = generate()
    assert len(data.searches) == 200_000
    assert len(data.labels) / len(data.searches) < 0.01


def test_reference_files_follow_the_spec(small: SyntheticData) -> None:
    for name, columns in REFERENCE_FILES.items():
        assert tuple(getattr(small, name).columns) == columns, name
    assert set(small.sites["category"]) == set(SITE_CATEGORIES)
    assert (small.sites.groupby("category").size() >= 3).all()
    agencies = small.agencies
    assert set(agencies["kind"]) == {"local", "sheriff", "state", "federal", "university"}
    assert (agencies["state"] == "CA").sum() >= 12
    assert (agencies["state"] == "US").sum() >= 5
    assert len(set(agencies["state"]) - {"CA", "US"}) >= 4
    assert 350 <= len(small.users) <= 450 and small.users["user_id"].is_unique
    assert len(small.vehicles) == 50_000 and small.vehicles["plate"].is_unique
    assert set(small.relations["kind"]) == {"household", "associate", "co_travel", "employer"}
    assert set(small.searches["agency"]) <= set(agencies["agency"])
    assert set(small.searches["user_id"]) <= set(small.users["user_id"])


def test_same_seed_same_data_and_other_seed_other_world() -> None:
    a = generate(days=14, searches=6_000, seed=5)
    b = generate(days=14, searches=6_000, seed=5)
    c = generate(days=14, searches=6_000, seed=6)
    pd.testing.assert_frame_equal(a.searches, b.searches)
    pd.testing.assert_frame_equal(a.labels, b.labels)
    assert not a.vehicles["plate"].equals(c.vehicles["plate"])
    assert not a.searches["search_id"].equals(c.searches["search_id"])


def test_misuse_mostly_launders_its_purpose(merged: pd.DataFrame) -> None:
    misuse = merged[merged["scenario"] != ""]
    explicit_incidents = misuse.groupby("incident_id")["reason"].agg(lambda r: r.str.contains(EXPLICIT).any())
    assert explicit_incidents.mean() < 0.25
    assert misuse["reason"].str.contains(EXPLICIT).mean() < 0.1
    benign = merged[merged["scenario"] == ""]
    assert benign["reason"].str.contains(EXPLICIT).any(), "keywords must not be a perfect rule"


def test_hard_negatives_are_present_and_benign(small: SyntheticData, merged: pd.DataFrame) -> None:
    benign = merged[merged["scenario"] == ""]
    assert benign["reason"].str.contains("ice", case=False).sum() >= 20
    plates = benign[benign["plate"] != ""]
    assert plates.groupby("plate")["user_id"].nunique().max() >= 10  # hotlist / BOLO swarms
    per_pair = plates[plates["case_number"] != ""].groupby(["user_id", "plate"]).size()
    assert per_pair.max() >= 20  # surveillance of one suspect under a case
    per_case = plates[plates["case_number"] != ""].groupby("case_number")["plate"].nunique()
    assert per_case.max() >= 20  # major-case bursts
    sites = small.sites
    area = benign[benign["search_type"] == "area"]
    dist = np.hypot(area["lat"].to_numpy()[:, None] - sites["lat"].to_numpy(),
                    area["lon"].to_numpy()[:, None] - sites["lon"].to_numpy())
    near = (dist < 0.003).any(axis=1)
    assert (near & (area["case_number"] != "").to_numpy()).sum() >= 3
    local_hour = benign["ts"].dt.tz_convert("America/Los_Angeles").dt.hour
    assert (local_hour == 3).sum() > 50  # night shift


def test_self_family_searches_hit_the_officers_own_family(small: SyntheticData, merged: pd.DataFrame) -> None:
    own = merged[merged["scenario"] == "self_family"].merge(small.users, on=["user_id", "agency"])
    vehicles = small.vehicles.assign(plate=normalize_plates(small.vehicles["plate"]))
    hit = own.assign(plate=normalize_plates(own["plate"])).merge(vehicles, on="plate")
    assert len(hit) == len(own)
    assert (hit["owner_surname"] == hit["surname"]).all()


def test_out_of_state_scenario_is_outside_agencies_only(merged: pd.DataFrame) -> None:
    outside = merged["agency_state"] != "CA"
    assert (merged.loc[outside, "scenario"] == "out_of_state").all()
    assert set(merged.loc[merged["scenario"] == "out_of_state", "agency_state"]) & {"US"}


def test_a_world_short_of_untargeted_households_still_casts_targets() -> None:
    """Very large datasets (millions of searches) hold more incidents than a world has private households."""
    from synthetic.scenarios import _Casting, _private_household
    from synthetic.world import build_world

    rng = np.random.default_rng(0)
    world = build_world(rng, days=10, vehicles=2_000)
    cast = _Casting(households=set(world.private_households.tolist()))
    assert _private_household(rng, world, cast) in set(world.private_households.tolist())
