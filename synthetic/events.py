"""Turns the decisions of a traffic stream (who, when, what, why) into canonical rows.

Benign traffic and misuse scenarios both go through ``make_rows``, so reach, device
counts, results, windows, reasons and case numbers look alike whatever produced them;
only the behaviour a stream chooses differs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from detector.schema import FIELDS

from . import clock, vocab
from .clock import Period
from .world import HOME_STATE, World

TIER_OWN, TIER_REGIONAL, TIER_STATEWIDE, TIER_NATIONWIDE = range(4)
_DEVICES_PER_NETWORK = np.array([0.0, 24.0, 17.0, 13.0])
# Extra label columns carried alongside the canonical ones until labels are split off.
LABEL_EXTRAS = ("scenario", "incident_id")


def pick(rng: np.random.Generator, options: tuple[str, ...] | list[str], n: int) -> np.ndarray:
    """``n`` uniform draws from a list of strings, as an object array."""
    return np.array(options, dtype=object)[rng.integers(0, len(options), n)]


def case_numbers(rng: np.random.Generator, world: World, period: Period, agency: np.ndarray,
                 day: np.ndarray) -> np.ndarray:
    """Case numbers in each agency's format, numbered upwards through the year."""
    n = len(agency)
    dates = period.local_dates(day)
    year = dates.year.to_numpy()
    yy = np.char.zfill((year % 100).astype(str), 2)
    seq = dates.day_of_year.to_numpy() * 40 + rng.integers(0, 40, n)
    fmt = world.agency_attr("case_format")[agency]
    slug = world.agency_attr("slug")[agency]
    out = np.empty(n, dtype=object)

    def put(kind: str, values: np.ndarray) -> None:
        sel = fmt == kind
        out[sel] = values[sel]

    put("yyyy-6", np.char.add(np.char.add(year.astype(str), "-"), np.char.zfill(seq.astype(str), 6)))
    put("yy-5", np.char.add(np.char.add(yy, "-"), np.char.zfill(seq.astype(str), 5)))
    mmdd = np.char.add(np.char.zfill(dates.month.to_numpy().astype(str), 2),
                       np.char.zfill(dates.day.to_numpy().astype(str), 2))
    put("yymmdd-4", np.char.add(np.char.add(yy, mmdd), np.char.zfill((seq % 400).astype(str), 4)))
    put("yyyy-8", np.char.add(year.astype(str), np.char.zfill((seq % 10_000).astype(str), 4)))
    prefix = np.char.upper(np.array([s.split("_")[0][:3] for s in slug], dtype=str))
    put("prefix", np.char.add(np.char.add(np.char.add(prefix, yy), "-"), np.char.zfill(seq.astype(str), 5)))
    return out


def render_reasons(rng: np.random.Generator, world: World, user: np.ndarray, cat: np.ndarray, post: np.ndarray,
                   case_number: np.ndarray, vagueness: np.ndarray | None = None) -> np.ndarray:
    """Reason text as each user would type it: habits, typos, case numbers, dropdowns.

    Before the switch it is free text; after it, mostly ``Category - free text``, with
    vague users filing under "Investigation" whatever the real purpose.
    """
    n = len(user)
    vague_p = world.user_vagueness[user] if vagueness is None else vagueness
    vague = rng.random(n) < vague_p
    habit = np.array(vocab.VAGUE_REASONS, dtype=object)[world.user_habit[user]]
    any_vague = pick(rng, vocab.VAGUE_REASONS, n)
    vague_word = np.where(rng.random(n) < 0.7, habit, any_vague)
    texts = _category_texts(rng, cat)
    has_case = case_number != ""

    free = np.where(vague, vague_word, texts)
    free = np.where(~vague & has_case & (rng.random(n) < 0.2), case_number, free)
    free = np.where(rng.random(n) < 0.035, "", free)

    labels = np.array([c.label for c in vocab.CATEGORIES], dtype=object)
    simple = world.agency_attr("simple_labels")[world.user_agency[user]]
    label_cat = np.where(vague & (rng.random(n) < 0.6) & (cat != vocab.CAT_IMMIGRATION), vocab.CAT_INVESTIGATION, cat)
    label = labels[label_cat]
    for c, simple_label in vocab.SIMPLE_LABELS.items():
        label = np.where(simple & (label_cat == c), simple_label, label)
    tail = np.where(vague, pick(rng, vocab.VAGUE_FREE_TEXT, n), texts)
    tail = np.where(has_case & (rng.random(n) < 0.15), case_number, tail)
    form = rng.random(n)
    dropdown = np.where(form < 0.35, label, np.where(form < 0.5, label + " -", label + " - " + tail))
    dropdown = np.where((form >= 0.5) & (tail == ""), label + " -", dropdown)
    legacy = rng.random(n) < 0.1
    return np.where(post & ~legacy, dropdown, free)


def _category_texts(rng: np.random.Generator, cat: np.ndarray) -> np.ndarray:
    counts = np.array([len(c.texts) for c in vocab.CATEGORIES])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    flat = np.array([t for c in vocab.CATEGORIES for t in c.texts], dtype=object)
    return flat[offsets[cat] + (rng.random(len(cat)) * counts[cat]).astype(int)]


def benign_categories(rng: np.random.Generator, n: int) -> np.ndarray:
    """Purposes of ordinary searches, weighted as in released dropdown logs."""
    w = np.array([c.weight for c in vocab.CATEGORIES])
    return rng.choice(len(w), n, p=w / w.sum())


def reach_tiers(rng: np.random.Generator, world: World, agency: np.ndarray, search_type: np.ndarray) -> np.ndarray:
    """How far each search reaches: area searches stay near home, the rest follow the agency's habit."""
    mix = np.array(world.agency_attr("reach_mix").tolist(), dtype=float)[agency]
    area = search_type == "area"
    mix[area] = mix[area] * np.array([2.5, 2.0, 0.6, 0.3])
    mix /= mix.sum(axis=1, keepdims=True)
    u = rng.random(len(agency))[:, None]
    return (u > np.cumsum(mix, axis=1)).sum(axis=1).clip(0, 3)


def make_rows(
    rng: np.random.Generator, world: World, period: Period, *, user: np.ndarray, day: np.ndarray,
    search_type: np.ndarray, cat: np.ndarray, ms: np.ndarray | None = None, off_shift: np.ndarray | None = None,
    plate: np.ndarray | None = None, plate_state: np.ndarray | None = None, case_number: np.ndarray | None = None,
    reason: np.ndarray | None = None, vagueness: np.ndarray | None = None, tier: np.ndarray | None = None,
    lat: np.ndarray | None = None, lon: np.ndarray | None = None, radius_m: np.ndarray | None = None,
    window: tuple[np.ndarray, np.ndarray] | None = None, on_behalf_of: np.ndarray | None = None,
    results_scale: float = 1.0,
) -> pd.DataFrame:
    """Canonical rows (plus empty label columns) for decisions a stream made; fills in the rest.

    ``window`` gives (start, end) offsets in ns before ``ts``; when absent a lookback
    typical of plate searches is drawn. ``reason`` overrides the rendered reason where
    it is not None.
    """
    n = len(user)
    search_type = np.asarray(search_type, dtype=object)
    agency = world.user_agency[user]
    if ms is None:
        ms = clock.sample_ms_of_day(rng, world.user_shift[user], off_shift)
    ts = clock.to_utc_ns(world, period, day, ms, agency)
    empty = np.full(n, "", dtype=object)
    plate = empty if plate is None else np.asarray(plate, dtype=object)
    plate_state = empty if plate_state is None else np.asarray(plate_state, dtype=object)
    plate_state = np.where((plate_state == HOME_STATE) & (rng.random(n) < 0.3), "", plate_state)
    case_number = empty if case_number is None else np.asarray(case_number, dtype=object)
    rendered = render_reasons(rng, world, user, cat, ts >= period.switch.value, case_number, vagueness)
    if reason is not None:
        reason = np.asarray(reason, dtype=object)
        rendered = np.where(pd.isna(reason), rendered, reason)

    names = world.agency_attr("name")
    offense = empty
    if world.agency_attr("offense_list")[agency].any():
        labels = np.array([c.label for c in vocab.CATEGORIES], dtype=object)
        second = labels[benign_categories(rng, n)]
        offense = np.where(rng.random(n) < 0.05, labels[cat] + ", " + second, labels[cat])
        offense = np.where(world.agency_attr("offense_list")[agency], offense, "")

    if tier is None:
        tier = reach_tiers(rng, world, agency, search_type)
    networks, devices = _reach(rng, world, period, agency, tier, day)
    results = _results(rng, search_type, tier, radius_m, window) * results_scale
    results = np.where(np.isnan(results), np.nan, np.round(results))

    if window is None:
        lookback = rng.choice(np.array([3 / 24, 1, 7, 30]) * clock.NS_PER_DAY, n, p=[0.05, 0.1, 0.35, 0.5])
        window = (lookback.astype(np.int64), np.zeros(n, dtype=np.int64))
    ts_s = ts // 10**9 * 10**9
    w_start = (ts_s - window[0]).astype("datetime64[ns]")
    w_end = (ts_s - window[1]).astype("datetime64[ns]")
    no_window = rng.random(n) < 0.02
    w_start[no_window] = np.datetime64("NaT")
    w_end[no_window] = np.datetime64("NaT")

    nan = np.full(n, np.nan)
    return pd.DataFrame({
        "search_id": empty,
        "ts": ts.view("datetime64[ns]"),
        "user_id": world.user_id[user],
        "agency": names[agency],
        "agency_state": world.agency_attr("state")[agency],
        "search_type": search_type,
        "plate": plate,
        "plate_state": plate_state,
        "lat": nan if lat is None else lat,
        "lon": nan if lon is None else lon,
        "radius_m": nan if radius_m is None else radius_m,
        "window_start": w_start,
        "window_end": w_end,
        "reason": rendered,
        "offense_type": offense,
        "case_number": case_number,
        "on_behalf_of": empty if on_behalf_of is None else on_behalf_of,
        "networks_searched": networks,
        "devices_searched": devices,
        "results": results,
        **{extra: empty for extra in LABEL_EXTRAS},
    })


def _reach(rng: np.random.Generator, world: World, period: Period, agency: np.ndarray, tier: np.ndarray,
           day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Networks and devices reached; counts creep up as agencies join the sharing network."""
    n = len(agency)
    counts = np.stack([np.ones(len(world.agencies)), world.agency_attr("regional"),
                       world.agency_attr("statewide"), world.agency_attr("nationwide")], axis=1)
    base = counts[agency, tier]
    growth = np.array([0, 2, 14, 60])[tier] * day / max(period.days, 1)
    jitter = np.where(tier >= TIER_STATEWIDE, rng.integers(-2, 3, n), 0)
    networks = np.where(tier == TIER_OWN, 1, np.maximum(base + growth + jitter, 2)).round()
    own = world.agency_attr("devices")[agency].astype(float)
    devices = np.where(
        tier == TIER_OWN, own - rng.integers(0, 3, n),
        networks * _DEVICES_PER_NETWORK[tier] * (1 + rng.normal(0, 0.03, n)),
    ).round()
    devices[rng.random(n) < 0.03] = np.nan
    return networks.astype(float), devices


def _results(rng: np.random.Generator, search_type: np.ndarray, tier: np.ndarray, radius_m: np.ndarray | None,
             window: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    n = len(tier)
    reach = np.array([1.0, 1.6, 2.4, 3.0])[tier]
    base = np.select(
        [search_type == "area", search_type == "attributes", search_type == "partial_plate",
         search_type == "convoy", search_type == "other"],
        [150.0, 60.0, 25.0, 8.0, 30.0], 4.0,
    )
    if radius_m is not None:
        hours = 4.0 if window is None else np.maximum((window[0] - window[1]) / 3.6e12, 0.25)
        base = np.where(search_type == "area", np.nan_to_num(radius_m, nan=200.0) / 200 * hours * 60, base)
    lam = base * reach * rng.gamma(0.7, 1 / 0.7, n)
    out = rng.poisson(lam).astype(float)
    out[(search_type == "other") & (rng.random(n) < 0.5)] = np.nan
    return out


def to_canonical(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate stream outputs into canonical dtypes, ordered by time."""
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.sort_values("ts", kind="mergesort", ignore_index=True)
    for f in FIELDS:
        if f.kind == "str":
            frame[f.name] = frame[f.name].fillna("").astype(str)
        elif f.kind == "ts":
            frame[f.name] = pd.to_datetime(frame[f.name]).dt.as_unit("ns").dt.tz_localize("UTC")
        else:
            frame[f.name] = frame[f.name].astype(np.float64)
    for extra in LABEL_EXTRAS:
        frame[extra] = frame[extra].fillna("").astype(str)
    return frame
