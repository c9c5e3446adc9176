"""Signals: each a strength in [0, 1] per search, from features, reference data and policy.

Every signal targets a pattern seen in released audit logs (docs/detection.md). The
parameters live in ``RuleParams``, one place, so that docs, tests and tuning agree.
Each signal also names the *episode* it belongs to (a person: one plate or one circle of
linked plates; a site; the
user's own activity, or a plate searched by many), which is how alerts group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammainc

from detector.features import CASE_PRACTICE_MEMORY, OFFSHIFT_HISTORY, OFFSHIFT_SHARE

# Signal name -> episode scope. Order is the column order of the signal matrix.
SIGNALS: dict[str, str] = {
    "repeat_plate": "person",
    "self_surname": "person",
    "household_sweep": "person",
    "sensitive_site": "site",
    "volume_burst": "user",
    "informal_sharing": "user",
    "subject_swarm": "swarm",
    "outside_sharing": "user",
    "declared_sharing": "user",
    "forbidden_purpose": "user",
    "protected_reason": "user",
    "personal_data_reason": "user",
    "nationwide_scope": "user",
    "off_shift": "user",
    "no_case_number": "user",
    "vague_reason": "user",
    "model_anomaly": "user",
}
SIGNAL_INDEX = {name: i for i, name in enumerate(SIGNALS)}
# Signals strong enough to open an alert on their own; the others only add weight.
PATTERN_SIGNALS = (
    "repeat_plate", "self_surname", "household_sweep", "sensitive_site", "volume_burst", "informal_sharing",
    "subject_swarm", "outside_sharing", "declared_sharing", "forbidden_purpose", "protected_reason",
)
# What only one person's doing shows: not judged of a withheld officer (``redacted_user``), who is
# every withheld officer of the agency at once, their lookups of a person, days near a site, runs
# of far-reaching lookups and hours pooled. A burst is held against the account's own usual
# volume, pooled alike, and still counts.
ONE_PERSON_SIGNALS = ("repeat_plate", "household_sweep", "sensitive_site", "informal_sharing", "off_shift")
SITE_WEIGHT = {
    "reproductive_health": 1.0, "gender_affirming_care": 1.0, "place_of_worship": 1.0, "immigration_services": 1.0,
    "protest": 1.0, "shelter": 0.8, "medical": 0.5, "school": 0.4, "other": 0.3,
}


@dataclass(frozen=True)
class RuleParams:
    """Thresholds of the signals; see docs/detection.md for what each one means."""

    repeat_min: float = 4.0  # searches of one person (plate or circle) by one user before it is a pattern
    repeat_full: float = 7.0  # ... and at which the signal is at full strength
    repeat_min_days: float = 2.0  # spread over at least this many days
    repeat_full_days: float = 5.0  # ... full strength from this many days
    obsession_lookups: float = 20.0  # unexplained lookups of one person from which, fully at twice as many, ...
    obsession_share: float = 0.2  # ... and this share of the account's searches (fully at twice), a repeat counts whatever its reasons
    burst_min: float = 10.0  # unexplained plate lookups within the decayed 1-hour window where a burst starts
    burst_full: float = 16.0  # ... and where it is at full strength
    burst_ratio: float = 4.0  # ... and this many times the user's own usual day (from half as many; the peers' for a new account)
    peak_ratio: float = 4.0  # ... or this many times the user's usual busiest hour (from half as many), once known ...
    peak_floor: float = 3.0  # ... taken as at least this many lookups
    day_min: float = 40.0  # unexplained plate lookups in one day that count as a burst (full at twice as many) ...
    day_ratio: float = 6.0  # ... and this many times the user's usual day or the peers', whichever is more (from half as many)
    sweep_min: float = 3.0  # distinct plates of one circle within the window
    sweep_repeat_min: float = 1.5  # unexplained lookups of one plate of the circle from which chance is not asked ...
    sweep_repeat_full: float = 2.5  # ... and fully waived
    sweep_chance_low: float = 0.1  # circles the user's lookups would meet as fully by chance, below which a sweep counts ...
    sweep_chance_high: float = 0.3  # ... and from which it does not
    sweep_practice_low: float = 0.01  # share of the agency's linked lookups in sweeps from which a sweep tells less ...
    sweep_practice_high: float = 0.03  # ... down to sweep_practice_floor from this share
    sweep_practice_floor: float = 0.5  # what a sweep weighs where sweeps are the agency's habit
    site_min_days: float = 3.0  # days one user searched near one site for full strength
    site_prior_searches: float = 200.0  # before the agency's searches tell, one in this many passes a given site
    site_p_low: float = 0.01  # chance of passing the site on as many days, below which the days count ...
    site_p_high: float = 0.05  # ... and from which they do not
    swarm_users: float = 4.0  # distinct users on one plate within the window
    swarm_full: float = 9.0
    swarm_window_min: float = 6.0  # distinct users on one plate within the last four calendar days, undecayed
    swarm_window_full: float = 10.0
    # users who came to the plate before the last four days (decayed over 14 days) per user of
    # those four days, from which the swarm is a steady interest
    swarm_steady: float = 1.0
    swarm_listed: float = 0.2  # share of the plate's recent searches that were hotlist searches from which it is listed
    swarm_cover: float = 0.3  # share of those searches with a case number or hotlist tie above which it is explained
    nationwide_networks: float = 100.0  # networks searched that count as nationwide
    outside_regional: float = 0.5  # how far an outside agency's search of 2 to nationwide_networks networks shares in the state's data
    outside_full_networks: float = 500.0  # ... and the reach from which it does in full: a whole state's (449 for a statewide search in a real sample)
    nationwide_ratio: float = 10.0  # ... and this many times the user's usual reach
    far_min: float = 4.5  # unexplained far-reaching searches of unregistered plates within hours
    far_full: float = 8.0
    far_beyond_reach: float = 0.6  # share of far_min and far_full that makes a run where the reach is unusual for the user
    offshift_share: float = OFFSHIFT_SHARE  # share of the user's history in this hour below which it is off-shift
    offshift_history: float = OFFSHIFT_HISTORY  # searches of history needed to judge shifts
    offshift_repeat_min: float = 4.0  # off-shift lookups of one plate by one user from which their lack of case numbers tells ...
    offshift_repeat_full: float = 6.0  # ... and fully
    surname_rare: float = 5.0  # households carrying a surname at most, for it to be rare
    caseless_low: float = 0.2  # chance the account's practice gives no case number on so many lookups, below which their lack tells ...
    caseless_high: float = 0.5  # ... and from which it tells nothing
    caseless_floor: float = 0.5  # what repeated lookups or a burst weigh where their lack of a case number tells nothing
    fixations_alone: float = 0.5  # the user's other plates looked up as often without a case number, up to which this one stands out ...
    fixations_habit: float = 2.5  # ... and from which it is their habit
    case_practice_full: float = 0.25  # share of the agency's searches with a case number from which a missing one counts in full
    case_practice_agency: float = 20.0  # the agency's case practice counts as this many of the account's own searches
    team_tie: float = 0.5  # what person signals weigh where a colleague had looked the person (for a sweep, one of the circle) up within the sweep window
    case_tie: float = 0.5  # what repeated lookups of a person, or a sweep of a circle, weigh where a case number tied one of them
    case_tie_share: float = 0.5  # share of the account's case practice a person's lookups need to be tied so; from half of it, in part
    scene_weight: float = 0.5  # what a purpose finding weighs beside a crime with a victim or a scene, without a case number


def _ramp(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """0 below ``lo``, 1 above ``hi``, linear between."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip((x - lo) / max(hi - lo, 1e-9), 0.0, 1.0)


def _unlikely(chance: np.ndarray, low: float, high: float) -> np.ndarray:
    """1 where ``chance`` is at most ``low``, 0 from ``high`` on, log-linear between."""
    with np.errstate(divide="ignore"):
        return 1.0 - _ramp(np.log10(chance), math.log10(low), math.log10(high))


def _sweep_surprise(f: dict[str, np.ndarray], p: RuleParams) -> np.ndarray:
    """How far chance fails to explain a user's lookups meeting so many plates of one circle.

    Were the user's recent lookups of linked plates (``linked_recent``, N) spread evenly
    over the register's, this circle would get ``circle_chance`` (mu) of them, a Poisson
    count; of the register's N / mu circles of its size, about N / mu * P(X >= m) would be
    met as fully by chance (the regularized incomplete gamma function is that tail, and
    interpolates it between whole numbers of plates).
    """
    m, mu = f["circle_plates"], f["circle_chance"]
    out = np.ones(len(m))
    rows = np.flatnonzero((m >= p.sweep_min - 1.0) & (mu > 0))
    met = f["linked_recent"][rows] / mu[rows] * gammainc(m[rows], mu[rows])
    out[rows] = _unlikely(met, p.sweep_chance_low, p.sweep_chance_high)
    return out


def _site_expected(f: dict[str, np.ndarray], p: RuleParams) -> np.ndarray:
    """How often the user's place searches would have passed this site by chance.

    A user who searches places a lot passes any one site now and then: as often as the
    agency's other users' place searches pass it (one in ``site_prior_searches`` before
    they tell).
    """
    rate = (f["peer_site_count"] + 1.0) / (f["peer_located"] + p.site_prior_searches)
    return f["located_count"] * rate


def _site_surprise(site_days: np.ndarray, expected: np.ndarray, p: RuleParams) -> np.ndarray:
    """How far chance fails to explain passing the site on ``site_days`` days: a Poisson count of
    mean ``expected`` (passes, of which days are fewer) rarely reaches that many."""
    out = np.ones(len(site_days))
    rows = np.flatnonzero(site_days >= 1)
    out[rows] = _unlikely(gammainc(site_days[rows], expected[rows]), p.site_p_low, p.site_p_high)
    return out


def case_practice(f: dict[str, np.ndarray], p: RuleParams) -> np.ndarray:
    """The account's share of searches giving a case number, its agency's standing in for the first ones.

    >>> f = {"own_case_practice": np.array([0.0, 0.0]), "agency_case_practice": np.array([0.8, 0.8]),
    ...      "user_prior": np.array([0.0, 60.0])}
    >>> case_practice(f, RuleParams()).tolist()
    [0.8, 0.2]
    """
    own = np.minimum(f["user_prior"], CASE_PRACTICE_MEMORY)
    return (p.case_practice_agency * f["agency_case_practice"] + own * f["own_case_practice"]) / (p.case_practice_agency + own)


def practice_on_others(f: dict[str, np.ndarray], p: RuleParams) -> np.ndarray:
    """``case_practice`` on the account's searches of other people: this person's earlier lookups taken out.

    An officer whose fixation is most of their searches drags their own practice down with it
    (144 lookups of one plate without case numbers among 216 searches: 28% where the rest gave
    69%), and the fixation would be judged by itself. Where nothing else is left, the agency's
    practice stands in, as for a new account.

    >>> f = {"own_case_practice": np.array([0.28, 0.28]), "agency_case_practice": np.array([0.4, 0.4]),
    ...      "user_prior": np.array([215.0, 215.0]), "up_count": np.array([1.0, 144.0]),
    ...      "up_case": np.array([0.0, 10.0]), "has_case": np.array([False, False])}
    >>> practice_on_others(f, RuleParams()).round(2).tolist()
    [0.29, 0.63]
    """
    own = np.minimum(f["user_prior"], CASE_PRACTICE_MEMORY)
    earlier = np.minimum(np.maximum(f["up_count"] - 1.0, 0.0), own)  # this person's lookups before this one
    cases = np.minimum(np.maximum(f["up_case"] - f["has_case"], 0.0), earlier)
    rest = own - earlier
    with np.errstate(invalid="ignore", divide="ignore"):
        rest_practice = np.clip(np.where(rest > 0, (own * f["own_case_practice"] - cases) / rest, 0.0), 0.0, 1.0)
    return (p.case_practice_agency * f["agency_case_practice"] + rest * rest_practice) / (p.case_practice_agency + rest)


def _teamwork(seen: np.ndarray, expected: np.ndarray, p: RuleParams) -> np.ndarray:
    """What a person signal weighs where a colleague looked the person up lately (``seen``): ``team_tie``,
    as far as chance does not explain their lookup (``expected`` such lookups by chance: where the
    agency's searches cover the register's people over and over, a colleague meets anyone).

    >>> _teamwork(np.array([1.0, 1.0, 0.0]), np.array([0.0, 3.0, 0.0]), RuleParams()).round(2).tolist()
    [0.5, 0.98, 1.0]
    """
    return np.where(seen > 0, 1.0 - (1.0 - p.team_tie) * np.exp(-expected), 1.0)


def _caseless_tells(practice: np.ndarray, lookups: np.ndarray, p: RuleParams) -> np.ndarray:
    """How much so many lookups without a case number tell, 0 to 1, by the account's ``practice``.

    Where an account gives a case number on a share r of its searches (``case_practice``:
    its own share, its agency's standing in for the first ones), an investigation's k
    lookups would all lack one with chance (1 - r)^k: rarely, where case numbers are the
    habit, so their lack tells; always, in an agency that never records them or from an
    officer who never gives one, where it tells nothing.
    """
    return _unlikely((1.0 - practice) ** lookups, p.caseless_low, p.caseless_high)


def _caseless_weight(p: RuleParams, telling: np.ndarray) -> np.ndarray:
    """What a pattern of lookups without case numbers weighs: in full where their lack tells,
    ``caseless_floor`` where it tells nothing (a detective's follow-ups or a major case's canvass
    look like a fixation or a fishing trip there)."""
    return p.caseless_floor + (1.0 - p.caseless_floor) * telling


def _repeat_told(f: dict[str, np.ndarray], practice: np.ndarray, p: RuleParams) -> np.ndarray:
    """How much a user's repeated lookups of one plate without a case number tell.

    As far as the account's practice makes their lack unlikely (``_caseless_tells``), or
    the user has no other plate they came back to as often without a case number
    (``fixations``): a habit explains one more, a private interest stands out among the
    user's lookups; or the user keeps looking the plate up at hours they do not work
    (``up_offshift``): a detective's follow-ups fall in their shift, a private interest in
    their own time.
    """
    alone = 1.0 - _ramp(f["fixations"], p.fixations_alone, p.fixations_habit)
    own_time = _ramp(f["up_offshift"], p.offshift_repeat_min, p.offshift_repeat_full)
    return np.maximum(np.maximum(_caseless_tells(practice, f["up_nocase"], p), alone), own_time)


def compute_signals(f: dict[str, np.ndarray], p: RuleParams) -> np.ndarray:
    """Signal strengths, one column per entry of ``SIGNALS``.

    ``f`` holds the feature columns (features.USER_FEATURES, TARGET_FEATURES) and the
    per-search context the engine derives (case numbers, reason bits, policy findings).
    """
    n = len(f["covered"])
    S = np.zeros((n, len(SIGNALS)), order="F")  # column-major: each signal is one contiguous column, here and in fusion
    covered = f["covered"].astype(np.float64)  # 0 unexplained, 0.5 specific reason, 1 case or hotlist
    discount = 1.0 - 0.7 * covered
    # for searches near a site, whose days already weigh how far each was explained: only a case
    # number or hotlist tie on this very search discounts it again, not a specific reason twice
    tie_discount = 1.0 - 0.7 * (covered >= 1.0)
    # a plate many colleagues search, most of them under a case number, is a live investigation:
    # one officer's repeated lookups of it are part of that, not a private interest
    investigated = _ramp(f["plate_users"], p.swarm_users - 1, p.swarm_users) * _ramp(f["plate_cover"], p.swarm_cover, 2 * p.swarm_cover)
    person_discount = discount * (1.0 - investigated)

    # one user, one plate, again and again, without one case number holding it together
    count = f["up_count"]
    case_share = np.where(count > 0, 1 - f["up_nocase"] / np.maximum(count, 1), 0)
    repeat = _ramp(count, p.repeat_min - 1, p.repeat_full) * _ramp(f["up_days"], p.repeat_min_days - 1, p.repeat_full_days)
    # judged by the account's practice on its other work, which a fixation does not drag down
    others = practice_on_others(f, p)
    caseless = _caseless_weight(p, _repeat_told(f, others, p))
    # a case number on any lookup of this person ties the others to an investigation in part, unless
    # the account gives them far more often than on this person's lookups (the rest are its own)
    below = _ramp(case_share / np.maximum(others, 1e-9), p.case_tie_share / 2, p.case_tie_share)
    tie = np.where(f["up_case"] > 0, 1.0 - (1.0 - p.case_tie) * below, 1.0)
    team = _teamwork(f["plate_team"], f["colleague_expected"], p)
    # ... but an obsession (scores of unexplained lookups of one person, a good share of all the
    # account's searches) counts whatever reasons it gives: no investigation looks like that
    obsession = (_ramp(f["up_nocase"], p.obsession_lookups, 2 * p.obsession_lookups)
                 * _ramp(count / (f["user_prior"] + 1.0), p.obsession_share, 2 * p.obsession_share))
    unexplained = np.maximum((1 - case_share) ** 2, obsession)
    S[:, SIGNAL_INDEX["repeat_plate"]] = repeat * caseless * unexplained * tie * team * person_discount

    # own or same-surname plates: strong when the surname is rare, or when the user keeps coming
    # back to that family on other days with nothing explaining it (an officer's own household
    # under a common name looks like that, a stranger's rarely does)
    surname = f["surname_match"].astype(bool)
    unexplained_share = f["up_nocase"] / np.maximum(count, 1)
    # ... or comes back on another day to another of that family's cars: chance meets one car of a
    # common name, not two cars of one circle on two days with nothing explaining either
    again = _ramp(f["up_nocase"], 1.5, 3.0) * _ramp(unexplained_share, 0.6, 0.85) * caseless
    another_car = _ramp(f["circle_plates"], 1.5, 2.0) * _ramp(f["up_nocase"], 1.5, 2.0)
    returns = np.maximum(again, another_car) * (f["up_days"] >= 2) * (f["up_case"] == 0)
    rarity = np.where(f["surname_households"] <= p.surname_rare, 1.0, 0.35 + 0.65 * returns)
    S[:, SIGNAL_INDEX["self_surname"]] = surname * rarity * team * person_discount

    # several plates of one household or circle of associates by one user
    # decayed count (10-day time constant): 3 plates within three days is ~2.7
    # a busy account meets plates of some circle by chance: a sweep counts as far as chance does not
    # explain it, unless the user keeps coming back to one of its plates with nothing explaining
    # that (none tied to a case), which chance does not do
    waived = _ramp(f["circle_repeat"], p.sweep_repeat_min, p.sweep_repeat_full)
    sweep = _ramp(f["circle_plates"], p.sweep_min - 1.0, p.sweep_min - 0.5) * np.maximum(_sweep_surprise(f, p), waived)
    # the circle's plates are weighted by how far their lookups were explained, and each lookup is
    # weighed by its own reason as a repeat's are: a detective's sweep of a suspect's household names
    # the offence on lookup after lookup, a private one rarely names any. A case number on a lookup of
    # one of the circle ties the others to an investigation in part (a suspect and their associates)
    tied = np.where(f["circle_tied"] > 0, p.case_tie, 1.0) * _teamwork(f["circle_team"], f["colleague_expected"] * np.maximum(f["circle_plates"], 1.0), p)
    # ... told as far as sweeps are not the agency's habit: where its officers' lookups of linked plates
    # fall in such circles every day, one more is its practice
    habit = p.sweep_practice_floor + (1.0 - p.sweep_practice_floor) * (
        1.0 - _ramp(f["agency_sweep_practice"], p.sweep_practice_low, p.sweep_practice_high))
    S[:, SIGNAL_INDEX["household_sweep"]] = sweep * tied * habit * person_discount

    # area or plate searches near a sensitive site, repeated on several days by one user, as far
    # as chance does not explain them; each day weighted by how little explained it, as a sweep
    # weighs its plates
    site_w = f["site_weight"]
    expected = _site_expected(f, p)
    days = _ramp(f["site_wdays"], 1, p.site_min_days) * _site_surprise(f["site_days"], expected, p)
    S[:, SIGNAL_INDEX["sensitive_site"]] = site_w * np.maximum(days, 0.3 * (f["site_count"] - expected >= 3)) * tie_discount

    # fishing: unexplained plate lookups far above the user's usual day. An hour is held against the
    # user's own day (the peers' only until the account has a history): a patrol officer's hour of
    # sixteen among colleagues who run dozens a day at a desk is theirs to explain. A whole day's
    # count is held against the busier of the two, as a desk's day is no fishing trip. Or an hour is held
    # against the user's usual busiest hour, once a few days show it: an officer who runs fifty a day
    # spread over the shift, then fifty in one hour, fished in that hour however busy the days are
    base = np.maximum(np.maximum(f["daily_mean"], f["peer_daily"]), 4.0)
    own = np.maximum(np.nan_to_num(f["usual_day"], nan=0.0), 4.0)  # the engine's: the user's own day, the peers' for a new account
    fish_hour, fish_day = f["burst_nocase"], f["day_fishing"]
    peak = np.where(f["peak_hour"] > 0, np.maximum(f["peak_hour"], p.peak_floor), np.inf)
    hourly = _ramp(fish_hour, p.burst_min, p.burst_full) * np.maximum(
        _ramp(fish_hour / own, p.burst_ratio / 2, p.burst_ratio), _ramp(fish_hour / peak, p.peak_ratio / 2, p.peak_ratio))
    hourly *= _ramp(fish_hour / np.maximum(f["burst"], 1), 0.5, 0.8)
    daily = _ramp(fish_day, p.day_min, 2 * p.day_min) * _ramp(fish_day / base, p.day_ratio / 2, p.day_ratio)
    daily *= _ramp(fish_day / np.maximum(f["day_count"], 1), 0.5, 0.8)
    # ... weighed as the lack of case numbers on so many lookups tells, by the account's practice
    # (worked out only where there is a burst: most searches have none)
    burst = np.maximum(hourly, daily)
    rows = np.flatnonzero(burst)
    practice = case_practice({k: f[k][rows] for k in ("own_case_practice", "agency_case_practice", "user_prior")}, p)
    burst[rows] *= _caseless_weight(p, _caseless_tells(practice, fish_day[rows], p))
    S[:, SIGNAL_INDEX["volume_burst"]] = burst

    # a reach far beyond this user's usual one
    wide = f["networks"] >= p.nationwide_networks
    with np.errstate(invalid="ignore"):
        reach = f["log_net"] - np.nan_to_num(f["net_mean"], nan=f["log_net"])
        nat = wide & ~(reach < np.log1p(p.nationwide_ratio) - 1e-9)
    # lookups for someone else: far-reaching searches of plates with no local history, in a run;
    # from a user who does not usually search that far at all, a shorter run tells as much (once
    # a day of the user's history has shown what is usual). Graded from half the nationwide ratio:
    # the usual reach takes in the run's own lookups, and an edge would drop the bar mid-run
    far_ratio = f["far_burst"] / np.maximum(f["far_usual"], 0.5)
    beyond = np.where(wide, _ramp(reach, np.log1p(p.nationwide_ratio / 2), np.log1p(p.nationwide_ratio)), 0.0)
    bar = 1.0 - (1.0 - p.far_beyond_reach) * beyond * (f["daily_mean"] >= 0)
    S[:, SIGNAL_INDEX["informal_sharing"]] = _ramp(f["far_burst"] / bar, p.far_min, p.far_full) * _ramp(far_ratio, 2.0, 4.0) * f["far_new"]

    # many users on one private person's plate
    # the decayed count undercounts users who came within a few days (ten users in three days reach 6.9):
    # the undecayed count of the last four calendar days, on a higher bar, catches that
    users = np.maximum(_ramp(f["plate_users"], p.swarm_users - 1, p.swarm_full),
                       _ramp(f["plate_users_window"], p.swarm_window_min, p.swarm_window_full))
    swarm = users * (f["plate_agencies"] >= 1.5)
    # ... a sudden one: a plate as many users looked up in the weeks before is a steady interest
    # (a car wanted for long, a known offender), not a person suddenly sought
    steady = _ramp(f["plate_users_before"] / np.maximum(f["plate_users_window"], 1.0), p.swarm_steady / 2, p.swarm_steady)
    swarm *= 1.0 - steady
    # ... not a wanted car's: a plate a share of whose recent searches are hotlist searches is on a
    # hotlist, one many officers are meant to look up (not by a reason that says "hotlist hit": an
    # officer writes what they like; nor by one hotlist search: a log may mix search types at random)
    listed = _ramp(f["plate_hotlist"], p.swarm_listed / 2, p.swarm_listed)
    S[:, SIGNAL_INDEX["subject_swarm"]] = swarm * (f["plate_cover"] < p.swarm_cover) * (1.0 - listed) * discount

    # an agency outside the rules shares in the state's data as far as its search reached past its
    # own cameras: not at all on its own network (1 network, as the event spec counts), in part on
    # a regional one (its neighbours, which may or may not be the state's), rising to full from the
    # nationwide threshold to a whole state's reach; fully where the reach is not given
    net = f["networks"]
    wider = p.outside_regional + (1.0 - p.outside_regional) * _ramp(net, p.nationwide_networks, p.outside_full_networks)
    reached = np.where(net == 1, 0.0, np.where(net > 1, wider, 1.0))
    S[:, SIGNAL_INDEX["outside_sharing"]] = f["outside_sharing"] * reached
    S[:, SIGNAL_INDEX["declared_sharing"]] = f["declared_sharing"]
    scene = 1.0 - (1.0 - p.scene_weight) * f["scene_hint"]
    S[:, SIGNAL_INDEX["forbidden_purpose"]] = f["forbidden_purpose"] * scene
    S[:, SIGNAL_INDEX["protected_reason"]] = f["protected_reason"] * scene
    S[:, SIGNAL_INDEX["personal_data_reason"]] = f["personal_data"]
    S[:, SIGNAL_INDEX["nationwide_scope"]] = nat
    S[:, SIGNAL_INDEX["off_shift"]] = f["has_history"] * (1 - _ramp(f["hour_share"], p.offshift_share / 2, p.offshift_share))
    S[:, SIGNAL_INDEX["no_case_number"]] = ~f["has_case"].astype(bool) * _ramp(f["agency_case_practice"], 0.0, p.case_practice_full)
    S[:, SIGNAL_INDEX["vague_reason"]] = f["vague"]
    S[np.ix_(f["redacted_user"], [SIGNAL_INDEX[s] for s in ONE_PERSON_SIGNALS])] = 0.0
    return S
