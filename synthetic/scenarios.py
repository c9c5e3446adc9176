"""Labelled misuse: eight kinds of episode, each an incident of one or more searches.

Scenarios are written as behaviour, not as keywords: most incidents launder their
purpose in the same vague reasons benign traffic uses ("investigation", "inv",
"Investigation - follow up"), and only a minority of incidents state it ("ICE",
"No Kings", "had an abortion, search for female"). What gives them away is who
searched whom, when, how often, how far, and with or without a case number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import vocab
from .benign import pool_vehicles
from .clock import NS_PER_DAY, Period, burst_ms, sample_ms_of_day, sample_work_days
from .events import TIER_NATIONWIDE, case_numbers, make_rows, pick
from .world import World

SCENARIOS: tuple[str, ...] = (
    "stalking", "associates", "informal_sharing", "sensitive_site", "out_of_state", "bulk_fishing",
    "subject_swarm", "self_family",
)
# Incidents per scenario at the default size (200k searches); never fewer than four.
INCIDENTS_AT_DEFAULT: dict[str, int] = {
    "stalking": 5, "associates": 6, "informal_sharing": 5, "sensitive_site": 5, "out_of_state": 6,
    "bulk_fishing": 4, "subject_swarm": 5, "self_family": 6,
}
SENSITIVE_TARGETS = (
    "reproductive_health", "gender_affirming_care", "place_of_worship", "immigration_services", "protest",
)
_SITE_EXPLICIT = {
    "reproductive_health": ("abortion clinic", "PP visitor"),
    "gender_affirming_care": ("trans clinic", "gender clinic visitor"),
    "place_of_worship": ("mosque", "mosque attendee"),
    "immigration_services": ("Immigration violation", "ICE"),
    "protest": ("No Kings", "protest", "protest organizer"),
}
_OUT_OF_STATE_EXPLICIT = ("had an abortion, search for female", "Immigration violation", "ICE", "HSI", "ICE+ERO")
_MISUSE_VAGUENESS = 0.88


@dataclass(frozen=True)
class _Incident:
    """What a scenario builder needs to know about the incident it draws."""

    number: int  # 0-based within its scenario
    explicit: bool  # states its purpose in some reasons
    scale: float  # dataset size relative to the default


@dataclass
class _Casting:
    """Who has already been cast, so incidents do not share a perpetrator or a target."""

    users: set[int] = field(default_factory=set)
    households: set[int] = field(default_factory=set)


def generate_misuse(rng: np.random.Generator, world: World, period: Period, searches: int) -> list[pd.DataFrame]:
    """All misuse incidents for a dataset of ``searches`` searches; each frame is labelled."""
    scale = searches / 200_000
    cast = _Casting()
    builders = {
        "stalking": _stalking, "associates": _associates, "informal_sharing": _informal_sharing,
        "sensitive_site": _sensitive_site, "out_of_state": _out_of_state, "bulk_fishing": _bulk_fishing,
        "subject_swarm": _subject_swarm, "self_family": _self_family,
    }
    frames = []
    for name in SCENARIOS:
        count = max(4, int(round(INCIDENTS_AT_DEFAULT[name] * scale)))
        explicit = _explicit_incidents(rng, count, name)
        for k in range(count):
            frame = builders[name](rng, world, period, cast, _Incident(k, bool(explicit[k]), scale))
            frame["scenario"] = name
            frame["incident_id"] = f"{name.replace('_', '-')}-{k + 1:03d}"
            frames.append(frame)
    return frames


def _explicit_incidents(rng: np.random.Generator, count: int, name: str) -> np.ndarray:
    """Which incidents state their purpose; only a minority do, and only where it was seen in released logs."""
    flags = np.zeros(count, dtype=bool)
    if name in ("informal_sharing", "sensitive_site", "out_of_state"):
        flags[rng.choice(count, max(1, count // 3), replace=False)] = True
    return flags


def _user(rng: np.random.Generator, world: World, cast: _Casting, roles: tuple[int, ...] = (0, 1),
          agencies: np.ndarray | None = None, extra: np.ndarray | None = None) -> int:
    """A user not cast yet, of the given roles and agencies (home state by default)."""
    agencies = world.home_agencies if agencies is None else agencies
    ok = np.isin(world.user_agency, agencies) & np.isin(world.user_role, roles)
    if extra is not None:
        ok &= extra
    free = np.flatnonzero(ok & ~np.isin(np.arange(len(ok)), list(cast.users)))
    pool = free if len(free) else np.flatnonzero(ok)
    user = int(rng.choice(pool))
    cast.users.add(user)
    return user


def _free_households(world: World, cast: _Casting) -> np.ndarray:
    """Private people's households (never part of ordinary police work) not targeted yet."""
    return world.private_households[~np.isin(world.private_households, list(cast.households))]


def _private_household(rng: np.random.Generator, world: World, cast: _Casting) -> int:
    """A private household not targeted yet; once all are (a very large dataset), any."""
    free = _free_households(world, cast)
    hh = int(rng.choice(free if len(free) else world.private_households))
    cast.households.add(hh)
    return hh


def _span(rng: np.random.Generator, period: Period, lo: int, hi: int) -> tuple[int, int]:
    """A stretch of ``lo`` to ``hi`` days inside the period, off its first and last day."""
    usable = max(period.days - 3, 2)
    length = int(min(rng.integers(lo, hi + 1), usable))
    first = int(rng.integers(1, max(2, period.days - 1 - length)))
    return first, first + length


def _vague_cats(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice([vocab.CAT_INVESTIGATION, vocab.CAT_SUSPICIOUS, vocab.CAT_STOLEN, vocab.CAT_WARRANT], n,
                      p=[0.6, 0.2, 0.1, 0.1])


def _fresh_plates(rng: np.random.Generator, n: int, p_out_of_state: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Plates with no local history: (almost surely) not in vehicles.csv, never looked up before."""
    mix = vocab.OUT_OF_STATE_PLATE_MIX
    states = np.where(rng.random(n) < p_out_of_state,
                      np.array(list(mix), dtype=object)[rng.choice(len(mix), n, p=list(mix.values()))], "CA")
    return vocab.state_plates(rng, states.astype(object)), states.astype(object)


def _stalking(
    rng: np.random.Generator, world: World, period: Period, cast: _Casting, inc: _Incident
) -> pd.DataFrame:
    """One officer, one or two private plates (an ex-partner, a new partner), for weeks."""
    user = _user(rng, world, cast, roles=(0, 1, 2))
    hh = _private_household(rng, world, cast)
    plates = [world.veh_plate[world.hh_plates[hh][0]]]
    if rng.random() < 0.35:
        plates.append(world.veh_plate[world.hh_plates[_private_household(rng, world, cast)][0]])
    n = int(np.clip(rng.lognormal(np.log(35), 0.9) * min(1.0, period.days / 60), 10, 180))
    first, last = _span(rng, period, 14, 50)
    day = first + (rng.random(n) * (last - first)).astype(int)
    which = np.where(rng.random(n) < 0.75, 0, len(plates) - 1)
    plate = np.array(plates, dtype=object)[which]
    types = np.where(rng.random(n) < 0.92, "plate", "partial_plate").astype(object)
    plate[types == "partial_plate"] = vocab.partial_plates(rng, plate[types == "partial_plate"])
    tier = rng.choice(4, n, p=[0.45, 0.3, 0.2, 0.05])
    return make_rows(rng, world, period, user=np.full(n, user), day=day, off_shift=rng.random(n) < 0.55,
                     search_type=types, cat=_vague_cats(rng, n), plate=plate, plate_state=np.full(n, "CA", object),
                     vagueness=np.full(n, _MISUSE_VAGUENESS), tier=tier)


def _associates(
    rng: np.random.Generator, world: World, period: Period, cast: _Casting, inc: _Incident
) -> pd.DataFrame:
    """A target's plate, then within days the plates of the target's household and associates."""
    rel = world.relations
    for hh in rng.permutation(_free_households(world, cast)):
        own = world.veh_plate[world.hh_plates[hh]]
        linked = pd.concat([rel.loc[rel["plate_a"].isin(own), "plate_b"], rel.loc[rel["plate_b"].isin(own), "plate_a"]])
        others = list(own[1:]) + list(dict.fromkeys(linked.tolist()))
        if len(others) >= 2:
            break
    cast.households.add(int(hh))
    user = _user(rng, world, cast, roles=(0, 1))
    others = others[:8]
    first, last = _span(rng, period, 2, 6)
    target_n = int(rng.integers(1, 4))
    per_other = rng.integers(1, 3, len(others))
    followed = [p for p, k in zip(others, per_other, strict=True) for _ in range(k)]
    plate = np.array([own[0]] * target_n + followed, dtype=object)
    n = len(plate)
    day = np.concatenate([np.full(target_n, first), first + 1 + rng.integers(0, last - first, n - target_n)])
    return make_rows(rng, world, period, user=np.full(n, user), day=day, off_shift=rng.random(n) < 0.4,
                     search_type=np.full(n, "plate", object), cat=_vague_cats(rng, n), plate=plate,
                     plate_state=np.full(n, "CA", object), vagueness=np.full(n, _MISUSE_VAGUENESS))


def _informal_sharing(
    rng: np.random.Generator, world: World, period: Period, cast: _Casting, inc: _Incident
) -> pd.DataFrame:
    """A local officer running plates for immigration enforcement, nationwide, in sessions."""
    user = _user(rng, world, cast, roles=(0, 1))
    first, last = _span(rng, period, 3, 25)
    sessions = int(rng.integers(2, 9))
    per = rng.integers(3, 13, sessions)
    n = int(per.sum())
    session_day = sample_work_days(rng, world, period, np.full(sessions, user), first, last + 1)
    session_ms = sample_ms_of_day(rng, np.full(sessions, world.user_shift[user]))
    sess = np.repeat(np.arange(sessions), per)
    ms = burst_ms(session_ms[sess], rng.integers(0, 75 * 60_000, n), 75 * 60_000)
    plate, state = _fresh_plates(rng, n, p_out_of_state=0.15)
    cat = np.where(rng.random(n) < 0.6, vocab.CAT_INVESTIGATION, vocab.CAT_ASSIST)
    vagueness = np.full(n, 0.8)
    if inc.explicit:
        said = rng.random(n) < 0.4
        cat = np.where(said, vocab.CAT_IMMIGRATION, cat)
        vagueness = np.where(said, 0.0, vagueness)
    reason = np.where((cat == vocab.CAT_ASSIST) & (rng.random(n) < 0.5),
                      pick(rng, vocab.LAUNDERED_ASSIST_REASONS, n), None)
    if inc.explicit:
        reason = np.where(cat == vocab.CAT_IMMIGRATION, np.where(
            rng.random(n) < 0.5, pick(rng, vocab.IMMIGRATION_REASONS, n), None), reason)
    declared = ""
    if rng.random() < 0.3:
        immigration = [a.name for a in world.agencies if a.slug in ("hsi_us", "ice_ero_us", "cbp_us")]
        declared = immigration[int(rng.integers(0, len(immigration)))]
    on_behalf = np.where(rng.random(n) < 0.5, declared, "").astype(object)
    return make_rows(rng, world, period, user=np.full(n, user), day=session_day[sess], ms=ms,
                     search_type=np.full(n, "plate", object), cat=cat, plate=plate, plate_state=state,
                     reason=reason, vagueness=vagueness, tier=np.full(n, TIER_NATIONWIDE), on_behalf_of=on_behalf,
                     results_scale=0.4)


def _sensitive_site(
    rng: np.random.Generator, world: World, period: Period, cast: _Casting, inc: _Incident
) -> pd.DataFrame:
    """Area searches (and the plates seen) around a clinic, mosque, immigration office or protest, day after day."""
    sites = world.sites[world.sites["category"].isin(SENSITIVE_TARGETS)].reset_index(drop=True)
    site = sites.iloc[int(rng.integers(0, len(sites)))]
    lat0 = world.agency_attr("lat")[world.home_agencies]
    lon0 = world.agency_attr("lon")[world.home_agencies]
    dist = np.hypot(lat0 - site["lat"], (lon0 - site["lon"]) * 0.8)
    near = world.home_agencies[dist <= np.sort(dist)[min(2, len(dist) - 1)]]
    user = _user(rng, world, cast, roles=(0, 1, 2), agencies=near)
    first, last = _span(rng, period, 7, 28)
    n_days = int(rng.integers(3, 9))
    visit = np.sort(rng.choice(np.arange(first, last + 1), min(n_days, last - first + 1), replace=False))
    n_area = rng.integers(1, 4, len(visit))
    n_plate = rng.integers(0, 5, len(visit))
    area_day = np.repeat(visit, n_area)
    plate_day = np.repeat(visit, n_plate)
    na, npl = len(area_day), len(plate_day)
    day = np.concatenate([area_day, plate_day])
    n = na + npl
    types = np.array(["area"] * na + ["plate"] * npl, dtype=object)
    area = types == "area"
    r = np.sqrt(rng.random(na)) * site["radius_m"]
    angle = rng.random(na) * 2 * np.pi
    lat = np.concatenate([np.round(site["lat"] + r * np.sin(angle) / 111_000, 6), np.full(npl, np.nan)])
    lon = np.concatenate([np.round(site["lon"] + r * np.cos(angle) / 88_000, 6), np.full(npl, np.nan)])
    radius = np.concatenate([rng.choice([100.0, 150.0, 200.0, 300.0, 400.0], na), np.full(npl, np.nan)])
    # Area windows cover a few hours in the past week, when people came and went.
    w_end = (rng.uniform(0.2, 7, n) * NS_PER_DAY).astype(np.int64)
    w_start = w_end + (rng.uniform(2, 6, n) * 3.6e12).astype(np.int64)
    visitors = world.veh_plate[pool_vehicles(rng, world, npl)].astype(object)
    fresh, _ = _fresh_plates(rng, npl)
    plate = np.concatenate([np.full(na, "", object), np.where(rng.random(npl) < 0.5, visitors, fresh)])
    state = np.concatenate([np.full(na, "", object), np.full(npl, "CA", object)])
    reason = np.full(n, None, dtype=object)
    if inc.explicit:
        said = rng.random(n) < 0.45
        reason[said] = pick(rng, _SITE_EXPLICIT[site["category"]], int(said.sum()))
    return make_rows(rng, world, period, user=np.full(n, user), day=day, off_shift=rng.random(n) < 0.3,
                     search_type=types, cat=_vague_cats(rng, n), plate=plate, plate_state=state, reason=reason,
                     vagueness=np.full(n, _MISUSE_VAGUENESS), lat=lat, lon=lon, radius_m=radius,
                     window=(np.where(area, w_start, 30 * NS_PER_DAY), np.where(area, w_end, 0)),
                     tier=np.where(area, 0, rng.integers(0, 3, n)))


def _out_of_state(
    rng: np.random.Generator, world: World, period: Period, cast: _Casting, inc: _Incident
) -> pd.DataFrame:
    """An out-of-state or federal investigator searching the home state's cameras."""
    federal = world.agency_attr("kind")[world.outside_agencies] == "federal"
    agencies = world.outside_agencies[federal if inc.number % 3 == 2 else ~federal]
    user = _user(rng, world, cast, roles=(1, 2), agencies=agencies)
    agency = world.user_agency[user]
    n = int(np.clip(rng.lognormal(np.log(20), 0.7), 5, 60))
    first, last = _span(rng, period, 1, 20)
    day = sample_work_days(rng, world, period, np.full(n, user), first, last + 1)
    kind = rng.random(n)
    veh_pool = world.veh_plate[pool_vehicles(rng, world, n)].astype(object)
    private = world.veh_plate[world.hh_plates[_private_household(rng, world, cast)][0]]
    fresh, fresh_state = _fresh_plates(rng, n, p_out_of_state=0.5)
    plate = np.where(kind < 0.4, veh_pool, np.where(kind < 0.6, private, fresh))
    state = np.where(kind < 0.6, "CA", fresh_state).astype(object)
    types = rng.choice(np.array(["plate", "partial_plate", "attributes"], dtype=object), n, p=[0.82, 0.06, 0.12])
    plate[types == "partial_plate"] = vocab.partial_plates(rng, plate[types == "partial_plate"])
    plate[types == "attributes"] = ""
    state[types == "attributes"] = ""
    case = np.where(rng.random(n) < 0.4, case_numbers(rng, world, period, np.full(n, agency), day), "")
    reason = np.full(n, None, dtype=object)
    if inc.explicit:
        said = rng.random(n) < 0.35
        texts = _OUT_OF_STATE_EXPLICIT if world.agencies[agency].state == "TX" else _OUT_OF_STATE_EXPLICIT[1:]
        reason[said] = pick(rng, texts, int(said.sum()))
    return make_rows(rng, world, period, user=np.full(n, user), day=day, search_type=types,
                     cat=_vague_cats(rng, n), plate=plate, plate_state=state, case_number=case, reason=reason,
                     vagueness=np.full(n, 0.7), tier=np.full(n, TIER_NATIONWIDE))


def _bulk_fishing(
    rng: np.random.Generator, world: World, period: Period, cast: _Casting, inc: _Incident
) -> pd.DataFrame:
    """Hundreds of lookups in a few hours by someone who normally runs a handful a day."""
    quiet = world.user_volume < np.median(world.user_volume)
    user = _user(rng, world, cast, roles=(0, 1), extra=quiet)
    n = int(rng.integers(100, 141) * float(np.clip(inc.scale, 0.4, 1.0)))
    day0 = int(rng.integers(1, max(2, period.days - 2)))
    two_sessions = rng.random() < 0.4
    day = np.where(two_sessions & (np.arange(n) >= n * 0.6), day0 + 1, day0)
    start = sample_ms_of_day(rng, np.full(2, world.user_shift[user]), rng.random(2) < 0.3)
    hours = int(rng.uniform(1, 4) * 3_600_000)
    ms = burst_ms(start[(day > day0).astype(int)], (np.sort(rng.random(n)) * hours).astype(np.int64), hours)
    kind = rng.random(n)
    everyone = world.veh_plate[rng.integers(0, len(world.veh_plate), n)].astype(object)
    fresh, _ = _fresh_plates(rng, n)
    plate = np.where(kind < 0.55, everyone, fresh)
    types = np.where(kind >= 0.82, "partial_plate", "plate").astype(object)
    plate[types == "partial_plate"] = vocab.partial_plates(rng, plate[types == "partial_plate"])
    return make_rows(rng, world, period, user=np.full(n, user), day=day, ms=ms, search_type=types,
                     cat=_vague_cats(rng, n), plate=plate, plate_state=np.full(n, "CA", object),
                     vagueness=np.full(n, 0.95))


def _subject_swarm(
    rng: np.random.Generator, world: World, period: Period, cast: _Casting, inc: _Incident
) -> pd.DataFrame:
    """A private person in the news: dozens of officers of several agencies look them up within days."""
    hh = _private_household(rng, world, cast)
    plate0 = world.veh_plate[world.hh_plates[hh][0]]
    k = int(rng.integers(10, 41))
    home = np.flatnonzero(np.isin(world.user_agency, world.home_agencies))
    region = world.agency_attr("region")[world.user_agency[home]]
    focus = region[int(rng.integers(0, len(home)))]
    w = np.where(region == focus, 3.0, 1.0)
    users = rng.choice(home, min(k, len(home)), replace=False, p=w / w.sum())
    per = rng.choice([1, 1, 1, 1, 2, 3], len(users))
    user = np.repeat(users, per)
    n = len(user)
    first, last = _span(rng, period, 1, 4)
    day = (first + rng.exponential(1.0, n).astype(int)).clip(first, last)
    types = np.where(rng.random(n) < 0.9, "plate", "partial_plate").astype(object)
    plate = np.full(n, plate0, dtype=object)
    plate[types == "partial_plate"] = vocab.partial_plates(rng, plate[types == "partial_plate"])
    own_case = rng.random(n) < 0.05
    case = np.where(own_case, case_numbers(rng, world, period, world.user_agency[user], day), "")
    return make_rows(rng, world, period, user=user, day=day, search_type=types, cat=_vague_cats(rng, n),
                     plate=plate, plate_state=np.full(n, "CA", object), case_number=case,
                     vagueness=np.full(n, 0.8))


def _self_family(
    rng: np.random.Generator, world: World, period: Period, cast: _Casting, inc: _Incident
) -> pd.DataFrame:
    """An officer looking up their own household's cars or relatives carrying their rare surname."""
    has_relatives = np.array([len(r) > 0 for r in world.user_relatives])
    rare = np.isin(world.user_surname, vocab.OFFICER_RARE_SURNAMES)
    family = (world.user_household >= 0) & has_relatives & rare
    relatives = bool(rng.random() < 0.45 and family.any())
    extra = family if relatives else world.user_household >= 0
    user = _user(rng, world, cast, roles=(0, 1, 2, 3), extra=extra)
    households = list(world.user_relatives[user]) if relatives and len(world.user_relatives[user]) else []
    households = households or [int(world.user_household[user])]
    vehicles = np.concatenate([world.hh_plates[h] for h in households])
    n = int(rng.integers(2, 13))
    first, last = _span(rng, period, 1, 30)
    day = first + (rng.random(n) * (last - first + 1)).astype(int)
    plate = world.veh_plate[vehicles[rng.integers(0, len(vehicles), n)]]
    return make_rows(rng, world, period, user=np.full(n, user), day=day, off_shift=rng.random(n) < 0.5,
                     search_type=np.full(n, "plate", object), cat=_vague_cats(rng, n), plate=plate,
                     plate_state=np.full(n, "CA", object), vagueness=np.full(n, _MISUSE_VAGUENESS),
                     tier=rng.choice(4, n, p=[0.5, 0.3, 0.15, 0.05]))
