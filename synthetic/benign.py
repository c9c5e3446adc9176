"""Ordinary police use of the plate database: the bulk a detector must leave alone.

Each stream is drawn in whole arrays (no loop per search). Several streams are built
to look like misuse to a naive rule and are labelled benign: long surveillance of one
suspect plate under a case number, major-case bursts, hotlist plates looked up by
dozens of officers, area searches at hospitals or schools with a case number, training
bursts, mutual-aid searches, same-surname plates with case numbers, night-shift
searches at 3 am, and reasons that contain "ice" inside other words.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import clock, vocab
from .clock import Period
from .events import benign_categories, case_numbers, make_rows, pick
from .world import World

# Share of benign searches per stream; ad-hoc lookups take what is left.
STREAM_SHARES = {
    "casework": 0.36, "hotlist": 0.06, "area": 0.065, "training": 0.015, "mutual_aid": 0.015, "surname": 0.003,
    "lookalike": 0.0003,
}
_SITE_LEGIT = {"medical": 5, "school": 5, "shelter": 2, "other": 2, "place_of_worship": 1,
               "reproductive_health": 0.7, "immigration_services": 0.5, "gender_affirming_care": 0.4, "protest": 0.6}


def generate_benign(rng: np.random.Generator, world: World, period: Period, n: int) -> list[pd.DataFrame]:
    """``n`` benign searches over the period, as canonical-row frames per stream."""
    sizes = {k: int(round(n * v)) for k, v in STREAM_SHARES.items()}
    sizes["adhoc"] = n - sum(sizes.values())
    streams = (
        ("casework", _casework), ("hotlist", _hotlist), ("area", _area), ("training", _training),
        ("mutual_aid", _mutual_aid), ("surname", _same_surname), ("lookalike", _lookalike), ("adhoc", _adhoc),
    )
    frames = []
    for name, fn in streams:
        if sizes[name] > 0:
            frames.append(fn(rng, world, period, sizes[name]))
    return frames


def fit_counts(count: np.ndarray, n: int) -> np.ndarray:
    """Group sizes cut so that they sum to exactly ``n``; callers draw at least ``n`` in total."""
    cum = np.cumsum(count)
    count = count[: min(int(np.searchsorted(cum, n)) + 1, len(count))].copy()
    count[-1] += n - count.sum()
    return count


def home_users(world: World, role_weight: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Home-state users and their probability of running the next search of some kind."""
    users = np.flatnonzero(np.isin(world.user_agency, world.home_agencies))
    w = np.array(role_weight)[world.user_role[users]] * world.user_volume[users]
    return users, w / w.sum()


def pool_vehicles(rng: np.random.Generator, world: World, n: int) -> np.ndarray:
    """Vehicles ordinary police work looks up, the popular ones again and again."""
    return world.benign_pool[rng.choice(len(world.benign_pool), n, p=world.pool_weight)]


def target_plates(rng: np.random.Generator, world: World, n: int, p_out_of_state: float = 0.11,
                  p_unknown: float = 0.07) -> tuple[np.ndarray, np.ndarray]:
    """Plates and issuing states of what officers look up: pooled vehicles, out-of-state and unknown plates."""
    plate = world.veh_plate[pool_vehicles(rng, world, n)].astype(object)
    state = np.full(n, "CA", dtype=object)
    u = rng.random(n)
    oos = u < p_out_of_state
    mix = vocab.OUT_OF_STATE_PLATE_MIX
    state[oos] = np.array(list(mix), dtype=object)[rng.choice(len(mix), oos.sum(), p=list(mix.values()))]
    unknown = (u >= p_out_of_state) & (u < p_out_of_state + p_unknown)
    changed = oos | unknown
    plate[changed] = vocab.state_plates(rng, state[changed])
    return plate, state


def _types_with_plates(rng: np.random.Generator, types: np.ndarray, plate: np.ndarray,
                       state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blank plates where the search type carries none and cut partial plates."""
    partial = types == "partial_plate"
    plate = plate.copy()
    state = state.copy()
    plate[partial] = vocab.partial_plates(rng, plate[partial])
    none = np.isin(types, ("attributes", "other", "area"))
    plate[none] = ""
    state[none] = ""
    return plate, state


def _adhoc(rng: np.random.Generator, world: World, period: Period, n: int) -> pd.DataFrame:
    users, p = home_users(world, (1.0, 0.3, 0.4, 0.3))
    user = users[rng.choice(len(users), n, p=p)]
    day = clock.sample_work_days(rng, world, period, user, 0, period.days)
    mix = vocab.ADHOC_TYPE_MIX
    types = np.array(list(mix), dtype=object)[rng.choice(len(mix), n, p=list(mix.values()))]
    plate, state = _types_with_plates(rng, types, *target_plates(rng, world, n))
    report = rng.random(n) < 0.1
    case = np.where(report, case_numbers(rng, world, period, world.user_agency[user], day), "")
    return make_rows(rng, world, period, user=user, day=day, search_type=types, cat=benign_categories(rng, n),
                     plate=plate, plate_state=state, case_number=case)


def _casework(rng: np.random.Generator, world: World, period: Period, n: int) -> pd.DataFrame:
    """Cases: a lead, sometimes partners, a few suspect plates, searched over days.

    Surveillance cases (one plate, 20 to 60 searches over weeks) and major cases (one
    detective, dozens to hundreds of plates in a day or two) are the hard negatives
    for stalking and bulk fishing.
    """
    m = n // 6 + 20
    kind = rng.choice(3, m, p=[0.95, 0.03, 0.02])  # normal, surveillance, major
    count = np.select(
        [kind == 0, kind == 1],
        [1 + rng.negative_binomial(1.2, 1.2 / 8.0, m), rng.integers(20, 61, m)],
        rng.integers(40, 201, m),
    )
    count = fit_counts(count, n)
    m = len(count)
    kind = kind[:m]

    leads, p = home_users(world, (0.15, 1.0, 0.5, 0.05))
    lead = leads[rng.choice(len(leads), m, p=p)]
    agency = world.user_agency[lead]
    duration = np.select([kind == 0, kind == 1],
                         [np.clip(rng.lognormal(np.log(4), 1.0, m), 1, 40), rng.integers(14, 46, m)], 2)
    opened = rng.integers(-10, period.days - 1, m)
    opened = np.where(opened + duration <= 0, 0, opened)
    lo = np.maximum(opened, 0)
    hi = np.maximum(np.minimum(opened + duration, period.days), lo + 1).astype(np.int64)
    n_plates = np.select([kind == 0, kind == 1],
                         [np.minimum(rng.geometric(0.45, m), 12), 1 + (rng.random(m) < 0.2)],
                         np.maximum((count * 0.7).astype(int), 1))
    plate_off = np.concatenate([[0], np.cumsum(n_plates)[:-1]])
    all_plates, all_states = target_plates(rng, world, int(n_plates.sum()))
    case_no = case_numbers(rng, world, period, agency, lo)
    case_cat = benign_categories(rng, m)
    case_cat[kind == 2] = rng.choice([vocab.CAT_INVESTIGATION, vocab.CATEGORY_INDEX["Homicide Offenses"],
                                      vocab.CATEGORY_INDEX["Robbery"]], (kind == 2).sum())
    # Partners: up to three more officers of the lead's agency on a third of the cases.
    partners = np.full((m, 3), -1)
    has_partner = (rng.random(m) < 0.3) & (kind == 0)
    for k in range(3):
        pick_k = has_partner & (rng.random(m) < (1.0, 0.5, 0.25)[k])
        partners[pick_k, k] = world.random_members(rng, agency[pick_k])

    case = np.repeat(np.arange(m), count)
    rows = len(case)
    slot = rng.integers(0, 3, rows)
    partner = partners[case, slot]
    user = np.where((partner >= 0) & (rng.random(rows) < 0.35), partner, lead[case])
    day = clock.sample_work_days(rng, world, period, user, lo[case], hi[case], keep_off=0.15)
    k = kind[case]
    within = np.where(k == 2, np.arange(rows) - np.repeat(np.cumsum(count) - count, count),
                      (rng.random(rows) ** 2 * n_plates[case]).astype(int))
    pidx = plate_off[case] + within % n_plates[case]
    plate, state = all_plates[pidx], all_states[pidx]

    types = np.where(k == 1, "plate", rng.choice(
        np.array(["plate", "partial_plate", "convoy", "attributes", "other"], dtype=object), rows,
        p=[0.85, 0.05, 0.03, 0.04, 0.03]))
    types = np.where((k == 2) & (types != "plate"), np.where(rng.random(rows) < 0.5, "partial_plate", "plate"), types)
    plate, state = _types_with_plates(rng, types, plate, state)

    # Major cases run as one burst of up to five hours in the lead's shift.
    ms = clock.sample_ms_of_day(rng, world.user_shift[user])
    burst = k == 2
    base_ms = clock.sample_ms_of_day(rng, world.user_shift[lead])[case]
    five_hours = 5 * 3_600_000
    ms = np.where(burst, clock.burst_ms(base_ms, rng.integers(0, five_hours, rows), five_hours), ms)
    day = np.where(burst, lo[case] + (rng.random(rows) < 0.3), day).clip(0, period.days - 1)

    show_case = rng.random(rows) < np.select([k == 1, k == 2], [0.72, 0.9], 0.78)
    show_case &= ~((world.user_role[user] == 0) & (rng.random(rows) < 0.35))
    case_number = np.where(show_case, case_no[case], "")
    return make_rows(rng, world, period, user=user, day=day, ms=ms, search_type=types, cat=case_cat[case],
                     plate=plate, plate_state=state, case_number=case_number)


def _hotlist(rng: np.random.Generator, world: World, period: Period, n: int) -> pd.DataFrame:
    """BOLO and hotlist plates: one plate, many officers of several agencies, within days."""
    b = max(8, n // 60)
    plate, state = target_plates(rng, world, b, p_out_of_state=0.15, p_unknown=0.2)
    origin = world.home_agencies[rng.integers(0, len(world.home_agencies), b)]
    issued = rng.integers(-5, period.days - 1, b)
    cat = rng.choice([vocab.CAT_STOLEN, vocab.CAT_WARRANT, vocab.CATEGORY_INDEX["Missing/Endangered Person/Runaway"],
                      vocab.CATEGORY_INDEX["Robbery"], vocab.CATEGORY_INDEX["Weapons Offense (Guns/Shots Fired)"]],
                     b, p=[0.6, 0.2, 0.08, 0.06, 0.06])
    shared = rng.random(b) < 0.55
    shared_no = case_numbers(rng, world, period, origin, np.maximum(issued, 0))
    popularity = 1.0 / (rng.permutation(b) + 1) ** 0.9
    bolo = rng.choice(b, n, p=popularity / popularity.sum())

    users, p = home_users(world, (1.0, 0.4, 0.4, 0.2))
    cand = users[rng.choice(len(users), n, p=p)]
    region = world.agency_attr("region")
    same_region = region[world.user_agency[cand]] == region[origin[bolo]]
    from_origin = rng.random(n) < 0.55
    local = world.random_members(rng, origin[bolo])
    user = np.where(from_origin | ~same_region & (rng.random(n) < 0.5), local, cand)
    day = (np.maximum(issued[bolo], 0) + rng.exponential(4.0, n).astype(int)).clip(0, period.days - 1)
    types = np.where(rng.random(n) < 0.4, "hotlist", "plate").astype(object)
    case = np.where(shared[bolo] & (rng.random(n) < 0.45), shared_no[bolo], "")
    own_report = (case == "") & (rng.random(n) < 0.1)
    case = np.where(own_report, case_numbers(rng, world, period, world.user_agency[user], day), case)
    reason = np.where(rng.random(n) < 0.2, pick(rng, ("BOL", "BOLO", "hotlist hit", "flock hit", "BOL - stolen"), n),
                      None)
    return make_rows(rng, world, period, user=user, day=day, search_type=types, cat=cat[bolo], plate=plate[bolo],
                     plate_state=state[bolo], case_number=case, reason=reason)


def _area(rng: np.random.Generator, world: World, period: Period, n: int) -> pd.DataFrame:
    """Area searches around incidents; a few sit at hospitals, schools or clinics, once, with a case number."""
    count = fit_counts(np.minimum(rng.geometric(0.55, n), 5), n)
    m = len(count)
    users, p = home_users(world, (0.35, 1.0, 0.8, 0.05))
    lead = users[rng.choice(len(users), m, p=p)]
    agency = world.user_agency[lead]
    lat = world.agency_attr("lat")[agency] + rng.normal(0, 0.04, m)
    lon = world.agency_attr("lon")[agency] + rng.normal(0, 0.05, m)
    radius = rng.choice([50.0, 100.0, 150.0, 250.0, 500.0, 1000.0], m, p=[0.1, 0.25, 0.2, 0.25, 0.15, 0.05])
    cat = rng.choice(len(vocab.CATEGORIES), m, p=_area_cat_weights())
    short = count <= 2
    at_site = (rng.random(m) < 0.03) & short
    at_site[np.flatnonzero(short)[:3]] = True  # a few exist even in small datasets
    sites = world.sites
    sw = sites["category"].map(_SITE_LEGIT).to_numpy(dtype=float)
    site = rng.choice(len(sites), m, p=sw / sw.sum())
    lat = np.where(at_site, sites["lat"].to_numpy()[site] + rng.normal(0, 0.0004, m), lat)
    lon = np.where(at_site, sites["lon"].to_numpy()[site] + rng.normal(0, 0.0004, m), lon)
    radius = np.where(at_site, sites["radius_m"].to_numpy()[site], radius)
    day0 = clock.sample_work_days(rng, world, period, lead, 0, period.days)
    case_no = np.where(at_site | (rng.random(m) < 0.55), case_numbers(rng, world, period, agency, day0), "")

    inc = np.repeat(np.arange(m), count)
    rows = len(inc)
    delay = rng.exponential(1.5, m) * clock.NS_PER_DAY
    length = rng.uniform(1, 12, m) * 3.6e12
    w_end = (delay[inc] * rng.uniform(0.8, 1.2, rows)).astype(np.int64)
    w_start = w_end + (length[inc] * rng.uniform(0.7, 1.3, rows)).astype(np.int64)
    r = radius[inc] * np.where(np.arange(rows) % 2 == 1, rng.choice([0.5, 1.0, 2.0], rows), 1.0)
    base_ms = clock.sample_ms_of_day(rng, world.user_shift[lead])[inc]
    ms = clock.burst_ms(base_ms, rng.integers(0, 90 * 60_000, rows), 90 * 60_000)
    return make_rows(rng, world, period, user=lead[inc], day=day0[inc], ms=ms,
                     search_type=np.full(rows, "area", dtype=object), cat=cat[inc], case_number=case_no[inc],
                     lat=np.round(lat[inc] + rng.normal(0, 0.0002, rows), 6),
                     lon=np.round(lon[inc] + rng.normal(0, 0.0002, rows), 6), radius_m=r, window=(w_start, w_end))


def _area_cat_weights() -> np.ndarray:
    w = np.array([c.weight for c in vocab.CATEGORIES], dtype=float)
    for label, boost in (("Burglary/Breaking & Entering", 3), ("Robbery", 3), ("Hit and Run/Car Accident", 3),
                         ("Weapons Offense (Guns/Shots Fired)", 3), ("Homicide Offenses", 4)):
        w[vocab.CATEGORY_INDEX[label]] *= boost
    return w / w.sum()


def _training(rng: np.random.Generator, world: World, period: Period, n: int) -> pd.DataFrame:
    """Training sessions: a room of officers running demo plates within two hours."""
    sessions = max(2, n // 45)
    agency = world.home_agencies[rng.integers(0, len(world.home_agencies), sessions)]
    staff = [np.flatnonzero(world.user_agency == a) for a in range(len(world.agencies))]
    size = rng.integers(3, 11, sessions)
    per = rng.integers(2, 13, (sessions, 10))
    attendees, counts = [], []
    for s in range(sessions):
        people = rng.choice(staff[agency[s]], min(size[s], len(staff[agency[s]])), replace=False)
        attendees.append(people)
        counts.append(per[s, : len(people)])
    user = np.concatenate([np.repeat(a, c) for a, c in zip(attendees, counts, strict=True)])
    session = np.concatenate([np.full(c.sum(), s) for s, c in enumerate(counts)])
    keep = min(n, len(user))
    user, session = user[:keep], session[:keep]
    if keep < n:  # top up with more searches in the same sessions
        extra = rng.integers(0, keep, n - keep)
        user, session = np.concatenate([user, user[extra]]), np.concatenate([session, session[extra]])
    rows = len(user)
    day = rng.integers(0, period.days, sessions)[session]
    start_ms = rng.integers(8 * 3_600_000, 15 * 3_600_000, sessions)[session]
    ms = start_ms + rng.integers(0, 2 * 3_600_000, rows)
    demo_plates, demo_states = target_plates(rng, world, sessions * 3, p_out_of_state=0.0, p_unknown=0.0)
    own_plate, own_state = target_plates(rng, world, rows)
    demo = rng.random(rows) < 0.6
    which = session * 3 + rng.integers(0, 3, rows)
    plate = np.where(demo, demo_plates[which], own_plate)
    state = np.where(demo, demo_states[which], own_state)
    types = rng.choice(np.array(["plate", "partial_plate", "area", "attributes"], dtype=object), rows,
                       p=[0.7, 0.1, 0.1, 0.1])
    plate, state = _types_with_plates(rng, types, plate, state)
    agencies = world.user_agency[user]
    area = types == "area"
    lat = np.where(area, np.round(world.agency_attr("lat")[agencies] + rng.normal(0, 0.02, rows), 6), np.nan)
    lon = np.where(area, np.round(world.agency_attr("lon")[agencies] + rng.normal(0, 0.02, rows), 6), np.nan)
    radius = np.where(area, 250.0, np.nan)
    return make_rows(rng, world, period, user=user, day=day, ms=ms, search_type=types,
                     cat=np.full(rows, vocab.CAT_TRAINING), plate=plate, plate_state=state,
                     vagueness=np.zeros(rows), tier=np.where(rng.random(rows) < 0.6, 0, 2),
                     lat=lat, lon=lon, radius_m=radius)


def _mutual_aid(rng: np.random.Generator, world: World, period: Period, n: int) -> pd.DataFrame:
    """Searches run for another home-state agency, usually declared in on_behalf_of."""
    users, p = home_users(world, (1.0, 0.8, 0.6, 0.1))
    user = users[rng.choice(len(users), n, p=p)]
    agency = world.user_agency[user]
    home = world.home_agencies
    region = world.agency_attr("region")
    other = home[rng.integers(0, len(home), n)]
    # Neighbours ask most: redraw once towards the same region.
    retry = home[rng.integers(0, len(home), n)]
    other = np.where((region[other] != region[agency]) & (region[retry] == region[agency]), retry, other)
    other = np.where(other == agency, home[(np.searchsorted(home, agency) + 1) % len(home)], other)
    day = clock.sample_work_days(rng, world, period, user, 0, period.days)
    plate, state = target_plates(rng, world, n)
    names = world.agency_attr("name")
    declared = rng.random(n) < 0.8
    case = np.where(rng.random(n) < 0.4, case_numbers(rng, world, period, other, day), "")
    cat = np.where(rng.random(n) < 0.55, vocab.CAT_ASSIST, benign_categories(rng, n))
    return make_rows(rng, world, period, user=user, day=day, search_type=np.full(n, "plate", dtype=object), cat=cat,
                     plate=plate, plate_state=state, case_number=case,
                     on_behalf_of=np.where(declared, names[other], ""))


def _same_surname(rng: np.random.Generator, world: World, period: Period, n: int) -> pd.DataFrame:
    """Officers with common surnames looking up unrelated owners of that surname, with a case number."""
    pooled_surname = world.hh_surname[world.veh_household[world.benign_pool]].astype(str)
    order = np.argsort(pooled_surname, kind="stable")
    ordered = pooled_surname[order]
    users, p = home_users(world, (1.0, 1.0, 0.5, 0.1))
    surname = world.user_surname[users].astype(str)
    first = np.searchsorted(ordered, surname, "left")
    count = np.searchsorted(ordered, surname, "right") - first
    eligible = np.isin(surname, list(vocab.COMMON_SURNAMES)) & (count > 0)
    users, p, first, count = users[eligible], p[eligible] / p[eligible].sum(), first[eligible], count[eligible]
    pick_u = rng.choice(len(users), n, p=p)
    user = users[pick_u]
    veh = world.benign_pool[order[first[pick_u] + (rng.random(n) * count[pick_u]).astype(int)]]
    day = clock.sample_work_days(rng, world, period, user, 0, period.days)
    case = case_numbers(rng, world, period, world.user_agency[user], day)
    return make_rows(rng, world, period, user=user, day=day, search_type=np.full(n, "plate", dtype=object),
                     cat=benign_categories(rng, n), plate=world.veh_plate[veh],
                     plate_state=np.full(n, "CA", dtype=object), case_number=case)


def _lookalike(rng: np.random.Generator, world: World, period: Period, n: int) -> pd.DataFrame:
    """Real crimes whose reasons name a mosque, a protest or immigrants, so keywords alone mislead."""
    users, p = home_users(world, (0.5, 1.0, 0.5, 0.0))
    user = users[rng.choice(len(users), n, p=p)]
    day = clock.sample_work_days(rng, world, period, user, 0, period.days)
    plate, state = target_plates(rng, world, n)
    case = case_numbers(rng, world, period, world.user_agency[user], day)
    return make_rows(rng, world, period, user=user, day=day, search_type=np.full(n, "plate", dtype=object),
                     cat=benign_categories(rng, n), plate=plate, plate_state=state, case_number=case,
                     reason=pick(rng, vocab.LOOKALIKE_REASONS, n))
