"""Each signal on small hand-built cases: one that should fire, one that should not."""

import numpy as np
import pandas as pd
import pytest

from batches import REF, days, make_batch, with_register
from detector.engine import Detector
from detector.explain import signal_detail
from detector.policy import load_policy
from detector.reference import Reference
from detector.rules import SIGNAL_INDEX
from detector.scoring import BACKGROUND


def run(rows, reference=REF, policy="california"):
    det = Detector(reference, load_policy(policy))
    result = det.process(make_batch(rows))
    return result


def strength(result, name):
    return result.signals[:, SIGNAL_INDEX[name]]


def test_repeat_plate_fires_without_case_numbers_and_not_under_one_case():
    stalk = run([{"ts": t, "plate": "EX1", "reason": "inv"} for t in days(15)])
    detective = run([{"ts": t, "plate": "EX1", "reason": "inv", "case_number": "2025-0042"} for t in days(15)])
    assert strength(stalk, "repeat_plate")[-1] > 0.9
    assert strength(stalk, "repeat_plate")[:2].max() == 0  # two searches are no pattern
    assert strength(detective, "repeat_plate").max() == 0


def test_a_withheld_officer_is_not_judged_by_one_persons_habits():
    """Rows whose officer is withheld (``***``: another agency's, in a Network Audit) pool every
    such officer of the agency: fifteen lookups of one plate are theirs together. An hour of
    fishing far above the account's usual volume, and what one search says by itself, still count."""
    for user, judged in (("u1", True), ("***", False)):
        rows = ([{"ts": t, "user_id": user, "plate": "EX1", "reason": "inv"} for t in days(15)]
                + [{"ts": t, "user_id": user, "plate": f"F{i}", "reason": ""} for i, t in
                   enumerate(days(30, start="2025-11-20T02:00:00Z", step="1min"))]
                + [{"ts": "2025-11-21T10:00:00Z", "user_id": user, "plate": "IM1", "reason": "ICE"}])
        result = run(rows)
        assert bool(strength(result, "repeat_plate")[14] > 0.9) is judged
        assert strength(result, "volume_burst")[44] > 0.5
        assert strength(result, "forbidden_purpose")[-1] > 0.9


def test_a_withheld_plate_is_a_lookup_but_no_plate():
    """``***`` in the plate field: some plate, which one withheld. Fifteen such lookups, by one
    officer or by many, are not fifteen lookups of one plate; thirty in half an hour are still
    thirty unexplained plate lookups."""
    again = [{"ts": t, "plate": "***", "reason": "inv"} for t in days(15)]
    swarm = [{"ts": t, "user_id": f"u{i}", "plate": "***", "reason": "inv"}
             for i, t in enumerate(days(12, start="2025-11-20T08:00:00Z", step="20min"))]
    assert strength(run(again), "repeat_plate").max() == 0 and strength(run(swarm), "subject_swarm").max() == 0
    fishing = [{"ts": t, "plate": "***", "reason": ""} for t in days(30, start="2025-11-20T02:00:00Z", step="1min")]
    assert strength(run(fishing), "volume_burst")[-1] > 0.5


def test_a_case_number_now_and_then_ties_a_repeat_only_as_far_as_the_account_gives_them():
    """An account that gives case numbers on four searches in five, and on one of fifteen lookups
    of this plate: the other fourteen are its own business, not the case's. Where it gives them
    on one search in ten, that one case number ties the lookups as before."""
    def account(every: int) -> list[dict]:
        work = [{"ts": t, "plate": f"W{i}", "reason": "inv", "case_number": "" if i % every == 0 else f"C-{i}"}
                for i, t in enumerate(days(100, start="2025-09-01T10:00:00Z", step="5h"))]
        lookups = [{"ts": t, "plate": "EX1", "reason": "inv", "case_number": "C-7" if i == 3 else ""}
                   for i, t in enumerate(days(15))]
        return work + lookups

    diligent = strength(run(account(5)), "repeat_plate")[-1]   # case numbers on 80% of its work
    sparing = strength(run(account(1)), "repeat_plate")[-1]    # and on none: the one on EX1 ties it
    assert diligent > 0.8
    assert sparing == pytest.approx(0.5 * diligent)


@pytest.mark.parametrize("junk", ["N/A", "none", "0000", "1234"])
def test_a_case_number_field_naming_no_case_explains_nothing(junk):
    filled = run([{"ts": t, "plate": "EX1", "reason": "inv", "case_number": junk} for t in days(15)])
    empty = run([{"ts": t, "plate": "EX1", "reason": "inv"} for t in days(15)])
    assert strength(filled, "repeat_plate")[-1] > 0.9
    assert (filled.signals == empty.signals).all()


def _work(plates: int, streams: dict[str, str], lookups: int = 8) -> list[dict]:
    """Each of ``streams``' accounts looking up 300 plates a day over three weeks under its case
    number ("" for none), and u3 coming back to ``plates`` plates ``lookups`` times each."""
    rows = [{"ts": t.isoformat(), "user_id": user, "plate": f"F{i % 300}A", "case_number": case} for user, case in streams.items()
            for i, t in enumerate(pd.date_range("2025-09-01T08:00:00Z", periods=21 * 300, freq="4min"))]
    rows += [{"ts": t, "user_id": "u3", "plate": f"F{k}B"} for k in range(plates) for t in days(lookups, start=f"2025-09-{k + 1:02d}T09:00:00Z")]
    return rows


def test_an_obsession_counts_whatever_reasons_it_gives():
    """A hundred lookups of one plate under "welfare check", half of an account's searches, count in
    full (but for this search's own specific reason, 0.65): no investigation looks like that. The
    same hundred among two thousand searches, or sixty lookups, weigh by how much their reasons
    explain, as any repeat; and a fixation's own lookups do not lower the account's practice it is
    judged by (``practice_on_others``)."""
    def account(other: int, lookups: int) -> list[dict]:
        work = [{"ts": t.isoformat(), "plate": f"F{i % 300}A", "reason": "inv", "case_number": f"C-{i}"}
                for i, t in enumerate(pd.date_range("2025-09-01T08:00:00Z", "2025-09-30T20:00:00Z", periods=other))]
        look = [{"ts": t.isoformat(), "plate": "EX1", "reason": "welfare check"}
                for t in pd.date_range("2025-10-01T09:00:00Z", periods=lookups, freq="7h")]
        return work + look

    obsessed = strength(run(account(60, 100)), "repeat_plate")[-1]
    among_many = strength(run(account(2000, 100)), "repeat_plate")[-1]
    fewer = strength(run(account(60, 60)), "repeat_plate")[-1]
    assert obsessed == pytest.approx(0.65)
    assert among_many < 0.25 and among_many < fewer < obsessed


def test_repeat_plate_weighs_missing_case_numbers_by_the_accounts_practice_and_habit():
    again = [{"ts": t, "user_id": "u3", "plate": "EX1"} for t in days(8, start="2025-10-01T10:00:00Z")]

    def run_with(rows):
        return run(sorted(rows + again, key=lambda r: r["ts"]))

    # an officer's follow-ups of eight plates, none under a case number, where nobody gives one:
    # their habit, and the next such plate weighs half ...
    habit = sorted(_work(8, {"u2": ""}) + again, key=lambda r: r["ts"])
    ctx = Detector(REF, load_policy("california")).features(make_batch(habit))
    assert ctx["own_case_practice"].iloc[-1] == 0 and ctx["agency_case_practice"].iloc[-1] < 0.01 and ctx["fixations"].iloc[-1] == 8
    assert strength(run(habit), "repeat_plate")[-1] == pytest.approx(0.5)
    # ... where a lone fixation of an account that comes back to no other plate counts in full
    assert strength(run_with(_work(0, {"u2": ""})), "repeat_plate")[-1] == pytest.approx(1.0)
    # ... as does the plate of an account with a few such habits that gives case numbers otherwise:
    # their lack tells there, unless the account never gives one, whatever its colleagues do
    assert strength(run_with(_work(3, {"u3": "C-1"})), "repeat_plate")[-1] == pytest.approx(1.0)
    assert strength(run_with(_work(3, {"u2": "C-1", "u3": ""})), "repeat_plate")[-1] == pytest.approx(0.5)


def test_repeat_plate_counts_in_full_where_the_lookups_fall_in_the_users_own_time():
    """Where a missing case number tells nothing and the user has a habit of follow-ups, lookups
    of the plate at hours the user does not work still tell: six of them count in full."""
    nights = [{"ts": f"2025-10-{d:02d}T{d % 6:02d}:00:00Z", "user_id": "u3", "plate": "EX1"} for d in range(1, 9)]
    days_ = [dict(r, ts=r["ts"][:11] + "09:30:00Z") for r in nights]
    at_night = run(sorted(_work(8, {"u2": ""}) + nights, key=lambda r: r["ts"]))
    at_work = run(sorted(_work(8, {"u2": ""}) + days_, key=lambda r: r["ts"]))
    assert strength(at_night, "repeat_plate")[-1] == pytest.approx(1.0)
    assert strength(at_work, "repeat_plate")[-1] == pytest.approx(0.5)


def test_a_missing_case_number_counts_where_the_agency_gives_them():
    nobody = [{"ts": t, "plate": f"P{i}"} for i, t in enumerate(days(1000, step="10min"))]
    assert strength(run(nobody), "no_case_number")[0] == 1.0  # before the agency's practice is known
    assert strength(run(nobody), "no_case_number")[-1] < 0.05
    some = [dict(r, case_number="C-1") if i % 3 else r for i, r in enumerate(nobody)]
    assert strength(run(some), "no_case_number")[-1] == 1.0


def test_self_surname_rare_name_fires_common_name_weak():
    own = run([{"user_id": "u1", "plate": "SELF1"}])
    common_ref = Reference(vehicles=pd.DataFrame({"plate": ["GAR1"] + [f"G{i}" for i in range(200)], "household_id": [f"h{i}" for i in range(201)],
                                                  "owner_surname": ["Garcia"] * 201}), users=REF.users, agencies=REF.agencies)
    common = run([{"user_id": "u2", "plate": "GAR1"}], reference=common_ref)
    stranger = run([{"user_id": "u3", "plate": "SELF1"}])
    assert strength(own, "self_surname")[0] == pytest.approx(1.0)
    assert 0 < strength(common, "self_surname")[0] < 0.5
    assert strength(stranger, "self_surname")[0] == 0


def test_common_surname_grows_strong_when_the_user_keeps_coming_back_unexplained():
    common_ref = Reference(vehicles=pd.DataFrame({"plate": ["GAR1"] + [f"G{i}" for i in range(200)], "household_id": [f"h{i}" for i in range(201)],
                                                  "owner_surname": ["Garcia"] * 201}), users=REF.users, agencies=REF.agencies)
    returns = run([{"ts": t, "user_id": "u2", "plate": "GAR1", "reason": "inv"} for t in days(3)], reference=common_ref)
    one_day = run([{"ts": t, "user_id": "u2", "plate": "GAR1", "reason": "inv"} for t in days(3, step="1h")], reference=common_ref)
    with_case = run([{"ts": t, "user_id": "u2", "plate": "GAR1", "reason": "inv", "case_number": "C-7"} for t in days(3)],
                    reference=common_ref)
    assert strength(returns, "self_surname")[-1] > 0.9
    assert strength(returns, "self_surname")[0] < 0.5  # one lookup of a common name is chance
    assert strength(one_day, "self_surname").max() < 0.5  # one session, not a habit
    assert strength(with_case, "self_surname").max() < 0.2


def test_common_surname_grows_strong_when_the_user_comes_back_to_another_car_of_that_family():
    vehicles = pd.DataFrame({"plate": ["GAR1", "GAR2"] + [f"G{i}" for i in range(200)], "household_id": ["h0"] + [f"h{i}" for i in range(201)],
                             "owner_surname": ["Garcia"] * 202})
    ref = Reference(vehicles=with_register(vehicles), users=REF.users, agencies=REF.agencies)
    two_cars = run([{"ts": t, "user_id": "u2", "plate": p, "reason": "inv"} for t, p in zip(days(2), ["GAR1", "GAR2"])], reference=ref)
    one_sitting = run([{"ts": t, "user_id": "u2", "plate": p, "reason": "inv"} for t, p in zip(days(2, step="1h"), ["GAR1", "GAR2"])],
                      reference=ref)
    two_families = run([{"ts": t, "user_id": "u2", "plate": p, "reason": "inv"} for t, p in zip(days(2), ["GAR1", "G7"])], reference=ref)
    with_case = run([{"ts": t, "user_id": "u2", "plate": p, "reason": "inv", "case_number": "C-7"} for t, p in zip(days(2), ["GAR1", "GAR2"])],
                    reference=ref)
    assert strength(two_cars, "self_surname")[-1] > 0.9
    assert strength(one_sitting, "self_surname").max() < 0.5
    assert strength(two_families, "self_surname").max() < 0.5  # one car each of two Garcia households: chance
    assert strength(with_case, "self_surname").max() < 0.2


def test_household_sweep_counts_one_hop_of_links_not_a_chain():
    # households A - B - C - D linked in a chain by associate links; A's circle is A and B only
    vehicles = with_register(pd.DataFrame({"plate": ["A1", "A2", "B1", "C1", "D1"], "household_id": ["ha", "ha", "hb", "hc", "hd"],
                                           "owner_surname": ["Ames", "Ames", "Bell", "Cole", "Dunn"]}))
    relations = pd.DataFrame({"plate_a": ["A2", "B1", "C1"], "plate_b": ["B1", "C1", "D1"], "kind": ["associate"] * 3})
    ref = Reference(vehicles=vehicles, relations=relations, users=REF.users, agencies=REF.agencies)
    circle = run([{"ts": t, "plate": p} for t, p in zip(days(3), ["A1", "A2", "B1"])], reference=ref)
    chain = run([{"ts": t, "plate": p} for t, p in zip(days(3), ["A1", "C1", "D1"])], reference=ref)
    assert strength(circle, "household_sweep")[-1] > 0.9
    assert strength(chain, "household_sweep").max() == 0
    # a target and two of its associates who do not know each other: one circle, centred on the target
    star = run([{"ts": t, "plate": p} for t, p in zip(days(3), ["B1", "A2", "C1"])], reference=ref)
    assert strength(star, "household_sweep")[-1] > 0.9
    # the sweep is one episode: B1's search belongs to the household whose plate opened the run
    ctx = Detector(ref, load_policy("california")).features(make_batch([{"ts": t, "plate": p} for t, p in zip(days(3), ["A1", "A2", "B1"])]))
    assert ctx["person"].tolist() == ["hh:ha", "hh:ha", "hh:ha"]
    alone = Detector(ref, load_policy("california")).features(make_batch([{"plate": "B1"}]))
    assert alone["person"].tolist() == ["hh:hb"]


def test_household_sweep_holds_a_persons_employer_but_not_their_coworkers():
    # W1 employs the owners of A1, B1 and C1; A2 is of A1's household
    vehicles = with_register(pd.DataFrame({"plate": ["A1", "A2", "B1", "C1", "W1"], "household_id": ["ha", "ha", "hb", "hc", "hw"],
                                           "owner_surname": ["Ames", "Ames", "Bell", "Cole", "Works"]}))
    relations = pd.DataFrame({"plate_a": ["W1", "B1", "W1"], "plate_b": ["A1", "W1", "C1"], "kind": ["employer"] * 3})
    ref = Reference(vehicles=vehicles, relations=relations, users=REF.users, agencies=REF.agencies)
    # a person, their household and their workplace: one circle, whichever plate comes last
    assert strength(run([{"ts": t, "plate": p} for t, p in zip(days(3), ["A1", "A2", "W1"])], reference=ref), "household_sweep")[-1] > 0.9
    assert strength(run([{"ts": t, "plate": p} for t, p in zip(days(3), ["W1", "A1", "A2"])], reference=ref), "household_sweep")[-1] > 0.9
    # three people who work at one place are not one another's circle
    coworkers = run([{"ts": t, "plate": p} for t, p in zip(days(4), ["A1", "B1", "C1", "W1"])], reference=ref)
    assert strength(coworkers, "household_sweep").max() == 0
    # the employer's lookup joins the episode of the person whose circle holds it
    ctx = Detector(ref, load_policy("california")).features(make_batch([{"ts": t, "plate": p} for t, p in zip(days(3), ["A1", "A2", "W1"])]))
    assert ctx["person"].tolist() == ["hh:ha", "hh:ha", "hh:ha"]


def test_household_sweep_fires_on_family_plates_not_on_unrelated():
    sweep = run([{"ts": t, "plate": p} for t, p in zip(days(3), ["EX1", "KID1", "KID2"])])
    unrelated = run([{"ts": t, "plate": p} for t, p in zip(days(3), ["EX1", "OTHER1", "OTHER2"])])
    assert strength(sweep, "household_sweep")[-1] > 0.9
    assert strength(unrelated, "household_sweep").max() == 0


def test_sensitive_site_repeated_days_fire_one_with_case_is_weak():
    near = {"search_type": "area", "lat": 37.7705, "lon": -122.4205, "radius_m": 100}
    repeated = run([dict(near, ts=t) for t in days(3)])
    once_case = run([dict(near, case_number="C-1")])
    far = run([dict(near, lat=38.5, lon=-121.0)])
    assert strength(repeated, "sensitive_site")[-1] > 0.99  # a hair under 1: the account's volume makes some of it chance
    assert strength(once_case, "sensitive_site")[0] < 0.2
    assert strength(far, "sensitive_site")[0] == 0


def test_sensitive_site_days_count_as_far_as_nothing_explained_them():
    near = {"search_type": "area", "lat": 37.7705, "lon": -122.4205, "radius_m": 100}
    # two unexplained days, then two under specific reasons: the pattern stands, the reasons half explain their days
    laundered = [dict(near, ts=t, reason=r) for t, r in zip(days(4), ["locate", "locate", "UUV", "10851 VC"])]
    assert strength(run(laundered), "sensitive_site")[-1] > 0.99
    # three days all under specific reasons count as 1.5 days: weak; six of them as three
    specific = [dict(near, ts=t, reason="burglary suspect") for t in days(6)]
    res = run(specific)
    assert strength(res, "sensitive_site")[2] < 0.3 and strength(res, "sensitive_site")[-1] > 0.99
    # a day under a case number does not count, and the search it ties is discounted
    cased = [dict(near, ts=t, case_number="C-9") for t in days(5)]
    assert strength(run(cased), "sensitive_site").max() < 0.35


def test_sensitive_site_asks_more_days_near_a_site_the_agencys_officers_pass_often():
    near = {"search_type": "area", "lat": 37.7705, "lon": -122.4205, "radius_m": 100}
    elsewhere = dict(near, lat=38.5, lon=-121.0)
    # a colleague's 400 place searches of September, one in twenty of them near the clinic
    colleague = [dict(near if i % 20 == 0 else elsewhere, ts=t, user_id="u2")
                 for i, t in enumerate(days(400, start="2025-09-01T00:00:00Z", step="100min"))]
    quiet = [dict(elsewhere, ts=t, user_id="u2") for t in days(400, start="2025-09-01T00:00:00Z", step="100min")]
    patrol = [dict(elsewhere, ts=t) for t in days(60, start="2025-07-01T10:00:00Z")]
    three_days = [dict(near, ts=t) for t in days(3)]
    assert strength(run(colleague + three_days), "sensitive_site")[-1] > 0.99  # three searches: three passes are no chance
    # sixty searches elsewhere: at the colleague's rate about three would pass the clinic, on three days or so
    assert strength(run(colleague + patrol + three_days), "sensitive_site")[-1] < 0.2
    assert strength(run(colleague + patrol + [dict(near, ts=t) for t in days(10)]), "sensitive_site")[-1] > 0.99  # ... not ten
    assert strength(run(quiet + patrol + three_days), "sensitive_site")[-1] > 0.99  # nobody else passes it


def test_volume_burst_fires_on_caseless_burst_not_on_major_case():
    history = [{"ts": t, "plate": f"H{i}", "case_number": "C-1" if i % 2 else ""} for i, t in enumerate(days(20, step="1D"))]
    burst = [{"ts": t, "plate": f"B{i}"} for i, t in enumerate(days(80, start="2025-10-25T10:00:00Z", step="30s"))]
    case = [{"ts": t, "plate": f"B{i}", "case_number": "MAJOR-1"} for i, t in enumerate(days(80, start="2025-10-25T10:00:00Z", step="30s"))]
    assert strength(run(history + burst), "volume_burst")[-1] > 0.9
    assert strength(run(history + case), "volume_burst").max() == 0


def test_volume_burst_weighs_half_where_nobody_gives_case_numbers():
    """Where the agency never records a case number, a major case's canvass lacks one as a
    fishing trip does: the burst weighs ``caseless_floor``. Where one in ten searches gives one,
    eighty lookups without any are no investigation's."""
    burst = [{"ts": t, "plate": f"B{i}"} for i, t in enumerate(days(80, start="2025-10-25T10:00:00Z", step="30s"))]

    def history(every: int) -> list[dict]:
        return [{"ts": t, "user_id": "u2", "plate": f"H{i}", "case_number": "" if every == 0 or i % every else "C-1"}
                for i, t in enumerate(days(200, step="144min"))]

    assert strength(run(history(0) + burst), "volume_burst")[-1] == pytest.approx(0.5)
    assert strength(run(history(10) + burst), "volume_burst")[-1] == pytest.approx(1.0)


def test_an_hour_of_lookups_is_held_against_the_users_own_day_not_busier_peers():
    """A patrol officer who runs about three lookups a day, then two dozen unexplained ones in forty
    minutes: a fishing trip, however many a day the agency's desk officers run. The same hour from
    an officer who runs sixteen every morning within the hour is not."""
    def account(user: str, every: str) -> list[dict]:  # three weeks of the account's work under case numbers
        return [{"ts": t, "user_id": user, "plate": f"{user}H{i}", "case_number": "C-1"}
                for i, t in enumerate(days(400, start="2025-10-01T08:00:00Z", step=every)) if t < "2025-10-24"]

    desk = account("desk", "50min")  # about 29 a day
    mornings = [{"ts": t.isoformat(), "plate": f"M{i}", "case_number": "C-1"} for i, t in enumerate(
        pd.date_range("2025-10-01T08:00:00Z", periods=23, freq="D").repeat(16) + pd.to_timedelta(np.tile(np.arange(16) * 3, 23), unit="min"))]
    hour = [{"ts": t, "plate": f"B{i}", "reason": "chk"} for i, t in enumerate(days(24, start="2025-10-25T10:00:00Z", step="100s"))]
    patrol = run(sorted(desk + account("u1", "8h") + hour, key=lambda r: r["ts"]))
    assert strength(patrol, "volume_burst")[-1] > 0.9
    details = [s["detail"] for a in patrol.alerts for s in a.to_record()["signals"] if s["name"] == "volume_burst"]
    assert details and "against a usual 3 per day" in details[0]  # the officer's day, not the desk's 29
    busy = run(sorted(desk + mornings + hour, key=lambda r: r["ts"]))
    assert strength(busy, "volume_burst").max() == 0


def test_an_hour_far_above_the_users_usual_busiest_hour_is_fishing_however_busy_the_days():
    """An officer who runs about sixty lookups a day, one every ten minutes through a ten-hour shift
    (a busiest hour of about six), then sixty unexplained ones in one hour: under twice the usual
    day, but ten times the usual busiest hour. The same hour from an officer whose days come in
    bursts of forty is no fishing trip."""
    def account(burst: int) -> list[dict]:  # three weeks under case numbers, sixty lookups a day
        rows = []
        for day in pd.date_range("2025-10-01", periods=21, freq="D"):
            at = (pd.date_range(day + pd.Timedelta("08:00:00"), periods=60, freq="10min") if burst == 1 else
                  pd.date_range(day + pd.Timedelta("08:00:00"), periods=40, freq="60s").append(
                      pd.date_range(day + pd.Timedelta("14:00:00"), periods=20, freq="10min")))
            rows += [{"ts": t.tz_localize("UTC").isoformat(), "plate": f"W{day.day}-{i}", "case_number": "C-1"} for i, t in enumerate(at)]
        return rows

    hour = [{"ts": t, "plate": f"B{i}", "reason": "chk"} for i, t in enumerate(days(60, start="2025-10-25T10:00:00Z", step="60s"))]
    spread = run(account(1) + hour)
    assert strength(spread, "volume_burst")[-1] > 0.9
    details = [s["detail"] for a in spread.alerts for s in a.to_record()["signals"] if s["name"] == "volume_burst"]
    assert details and "and a usual busiest hour of" in details[0]
    assert strength(run(account(40) + hour), "volume_burst").max() < 0.5


def test_a_test_of_the_system_on_one_plate_after_another_is_fishing():
    """"Test" explains a user's lookups of a test plate (no repeat), not eighty plates in forty minutes."""
    history = [{"ts": t, "plate": f"H{i}", "case_number": "C-1" if i % 2 else ""} for i, t in enumerate(days(20, step="1D"))]
    start = "2025-10-25T10:00:00Z"
    fishing = [{"ts": t, "plate": f"B{i}", "reason": "test"} for i, t in enumerate(days(80, start=start, step="30s"))]
    assert strength(run(history + fishing), "volume_burst")[-1] > 0.9
    # a specific reason would explain them in part: the same run under "stolen vehicle" is no burst
    specific = [dict(row, reason="stolen vehicle") for row in fishing]
    assert strength(run(history + specific), "volume_burst").max() == 0
    test_plate = [{"ts": t, "plate": "TEST1", "reason": "Camera Test"} for t in days(15)]
    assert strength(run(test_plate), "repeat_plate").max() < 0.5


def test_informal_sharing_fires_on_run_of_nationwide_unknown_plates():
    run_rows = [{"ts": t, "plate": f"TX{i}", "plate_state": "TX", "networks_searched": 1500}
                for i, t in enumerate(days(20, step="5min"))]
    local = [{"ts": t, "plate": "EX1", "networks_searched": 1500, "case_number": "C1"} for t in days(20, step="5min")]
    assert strength(run(run_rows), "informal_sharing")[-1] > 0.9
    assert strength(run(local), "informal_sharing").max() == 0


def test_informal_sharing_a_shorter_run_tells_where_the_reach_is_unusual_for_the_user():
    run_rows = [{"ts": t, "plate": f"TX{i}", "plate_state": "TX", "networks_searched": 1500}
                for i, t in enumerate(days(5, start="2025-10-20T10:00:00Z", step="10min"))]
    local_user = [{"ts": t, "plate": "EX1", "networks_searched": 2} for t in days(10)]
    wide_user = [{"ts": t, "plate": "EX1", "networks_searched": 1500, "case_number": "C1"} for t in days(10)]
    assert strength(run(local_user + run_rows), "informal_sharing")[-1] > 0.9
    assert strength(run(wide_user + run_rows), "informal_sharing")[-1] < 0.2  # five is no run from an account that always searches wide
    assert strength(run(run_rows), "informal_sharing")[-1] < 0.2  # nor from one whose usual reach is not known yet


def test_informal_sharing_a_reach_just_under_the_nationwide_ratio_lowers_the_bar_nearly_as_much():
    """The user's norm takes in the run's own lookups: a run that starts ten times beyond it may
    end just under that, and an edge there would drop the shorter bar halfway through the run."""
    run_rows = [{"ts": t, "plate": f"TX{i}", "plate_state": "TX", "networks_searched": 1350}
                for i, t in enumerate(days(5, start="2025-10-20T10:00:00Z", step="10min"))]
    # ten times and a little more at the run's first lookup, nine times by its last
    usual_120 = [{"ts": t, "plate": "EX1", "networks_searched": 120, "case_number": "C1"} for t in days(40, step="6h")]
    usual_340 = [{"ts": t, "plate": "EX1", "networks_searched": 340, "case_number": "C1"} for t in days(40, step="6h")]
    ten_then_nine = run(usual_120 + run_rows)
    assert strength(ten_then_nine, "nationwide_scope")[-5] == 1 and strength(ten_then_nine, "nationwide_scope")[-1] == 0
    assert strength(ten_then_nine, "informal_sharing")[-1] > 0.5
    assert strength(run(usual_340 + run_rows), "informal_sharing")[-1] < 0.2  # four times is no reach beyond the usual


def test_subject_swarm_fires_on_many_users_without_shared_case():
    agencies = ["Town PD", "City PD"]
    swarm = [{"ts": t, "user_id": f"x{i}", "agency": agencies[i % 2], "plate": "EX1"} for i, t in enumerate(days(20, step="2h"))]
    hotlist = [dict(r, search_type="hotlist") for r in swarm]
    assert strength(run(swarm), "subject_swarm")[-1] > 0.9
    assert strength(run(hotlist), "subject_swarm").max() == 0


def test_subject_swarm_spares_a_plate_on_a_hotlist():
    agencies = ["Town PD", "City PD"]
    swarm = [{"ts": t, "user_id": f"x{i}", "agency": agencies[i % 2], "plate": "EX1", "reason": "inv"}
             for i, t in enumerate(days(20, step="2h"))]

    def every(k, **fields):  # every k-th lookup a hotlist hit (or worded as one)
        return [dict(r, **fields) if i % k == 0 else r for i, r in enumerate(swarm)]

    # a wanted car: one lookup in four is a hotlist hit, whoever looks it up and why
    assert strength(run(every(4, search_type="hotlist")), "subject_swarm").max() == 0
    # ... not one in twenty, as a log whose search types are mixed at random has it, nor lookups
    # an officer worded "hotlist hit" (each explains itself, not the plate)
    assert strength(run(every(20, search_type="hotlist")), "subject_swarm")[-1] > 0.9
    assert strength(run(every(4, reason="hotlist hit")), "subject_swarm")[-1] > 0.9


def test_subject_swarm_is_a_sudden_interest_not_a_steady_one():
    agencies = ["Town PD", "City PD"]
    # three new users a day for three weeks: a car many officers keep looking up
    steady = [{"ts": t, "user_id": f"x{i}", "agency": agencies[i % 2], "plate": "EX1"}
              for i, t in enumerate(days(63, start="2025-10-01T01:00:00Z", step="8h"))]
    ctx = Detector(REF, load_policy("california")).features(make_batch(steady))
    # the users of each day that left the four-day ring, decayed over 14 days: at the end ~3 / (1 - e^(-1/14)) times
    # (1 - e^(-17/14)) of 17 such days
    assert ctx["plate_users_before"].iloc[:12].max() == 0
    assert ctx["plate_users_before"].iloc[-1] == pytest.approx(3 * (1 - np.exp(-17 / 14)) / (1 - np.exp(-1 / 14)))
    signal = strength(run(steady), "subject_swarm")
    assert signal[12:18].max() > 0.9 and signal[-1] == 0  # sudden in its first days, steady once as many came before
    # the last four days' users alone, after weeks of quiet, are sudden
    assert strength(run(steady[-12:]), "subject_swarm")[-1] > 0.9


def test_out_of_state_and_federal_access_break_california_sharing_rule():
    res = run([{"agency": "Dallas PD", "agency_state": ""}, {"agency": "HSI", "agency_state": ""}, {"agency": "City PD"}])
    assert strength(res, "outside_sharing").tolist() == [1.0, 1.0, 0.0]
    generic = run([{"agency": "Dallas PD", "agency_state": ""}], policy="generic")
    assert strength(generic, "outside_sharing")[0] == 0


def test_an_outside_agency_shares_in_the_states_data_as_far_as_its_search_reached():
    """Its own cameras (1 network) are no sharing; a regional reach is in part; a nationwide one,
    or one the log does not give, in full."""
    reach = ["1", "30", "300", "600", ""]
    res = run([{"agency": "Dallas PD", "agency_state": "TX", "networks_searched": n} for n in reach])
    assert strength(res, "outside_sharing").tolist() == [0.0, 0.5, 0.75, 1.0, 1.0]
    federal = run([{"agency": "HSI", "agency_state": "", "networks_searched": n} for n in reach])
    assert strength(federal, "outside_sharing").tolist() == [0.0, 0.5, 0.75, 1.0, 1.0]
    # a California agency's searches break nothing whatever their reach
    assert strength(run([{"networks_searched": n} for n in reach]), "outside_sharing").max() == 0


def test_forbidden_purpose_and_protected_reason():
    res = run([{"reason": "ICE+ERO"}, {"reason": "police assist"}, {"reason": "No Kings"}])
    assert strength(res, "forbidden_purpose").tolist() == [1.0, 0.0, 0.0]
    assert strength(res, "protected_reason").tolist() == [1.0, 0.0, 1.0]


def test_a_protected_word_beside_a_crime_scene_counts_half_without_a_case_number():
    res = run([{"ts": t, "plate": f"P{i}", "reason": r} for i, (t, r) in enumerate(zip(days(5), [
        "vandalism at mosque", "abortion clinic arson", "ICE machine theft from restaurant",  # a scene: half
        "HSI - human smuggling", "immigration fraud"]))])  # how enforcement is worded: in full
    assert strength(res, "protected_reason").tolist() == [0.5, 0.5, 0.5, 1.0, 1.0]
    assert strength(res, "forbidden_purpose").tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    # with a case number the scene explains the word; an offence type picked from a list is not beside it
    cased = run([{"reason": "vandalism at mosque", "case_number": "24-118"}])
    assert strength(cased, "protected_reason")[0] == 0
    picked = run([{"reason": "HSI assist", "offense_type": "Motor Vehicle Theft/Stolen"}])
    assert strength(picked, "forbidden_purpose")[0] == 1.0


def test_declared_sharing_with_an_agency_named_as_the_log_spells_it():
    """agencies.csv says "Dallas Police Department"; an officer writes "Dallas PD", or a state in brackets."""
    ref = Reference(agencies=pd.DataFrame({"agency": ["Town PD", "Dallas Police Department", "Harris County Sheriff's Office"],
                                           "state": ["CA", "TX", "TX"], "kind": ["local", "local", "sheriff"]}))
    named = ["Dallas PD", "Harris Co. SO", "Boise PD (ID)", "Reno NV PD", "Town PD", "Dallas"]
    res = run([{"on_behalf_of": ob} for ob in named], reference=ref)
    assert strength(res, "declared_sharing").tolist() == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    # the searching agency's own name is not read for a state: "LA PD" is no Louisiana agency
    assert strength(run([{"agency": "LA PD", "agency_state": ""}], reference=ref), "outside_sharing")[0] == 0


def test_declared_sharing_on_behalf_of_federal_agency():
    res = run([{"on_behalf_of": "HSI"}, {"on_behalf_of": "City PD"}])
    assert strength(res, "declared_sharing").tolist() == [1.0, 0.0]


def test_off_shift_needs_history_and_fires_at_unusual_hour():
    day_shift = [{"ts": t, "plate": f"P{i}"} for i, t in enumerate(pd.date_range("2025-10-01T16:00Z", periods=60, freq="1D").map(lambda x: x.isoformat()))]
    night = day_shift + [{"ts": "2025-12-15T03:00:00Z", "plate": "N1"}]
    res = run(night)
    assert strength(res, "off_shift")[-1] == pytest.approx(1.0)
    assert strength(res, "off_shift")[:-1].max() == 0


def test_scores_keep_input_order_and_are_causal():
    rows = [{"ts": t, "plate": "EX1"} for t in days(15)]
    rows = rows[::-1]  # given newest first
    res = run(rows)
    assert res.scores["search_id"].tolist() == [f"s{i}" for i in range(15)]
    # the newest search (given first) is the one with the longest history behind it
    assert res.scores["score"].iloc[0] == res.scores["score"].max()
    assert res.scores["score"].iloc[-1] < BACKGROUND  # the first lookup: no pattern yet, its context alone


def test_an_account_whose_lookups_cover_the_register_meets_a_circle_by_chance():
    family = [{"ts": t, "plate": p} for t, p in zip(days(3, start="2025-10-20T10:00:00Z"), ["EX1", "KID1", "KID2"])]
    assert strength(run(family), "household_sweep")[-1] > 0.9
    assert strength(run(_busy() + family), "household_sweep")[-1] < 0.2
    # as many lookups of plates linked to nothing make no circle likelier
    unlinked = [dict(r, plate=f"BG{i}") for i, r in enumerate(_busy())]
    assert strength(run(unlinked + family), "household_sweep")[-1] > 0.9


def test_repeat_lookups_of_a_plate_colleagues_investigate_under_cases_are_explained():
    alone = [{"ts": t, "plate": "EX1", "reason": "inv"} for t in days(12)]
    agencies = ["Town PD", "City PD"]
    # a wanted car: officer after officer looks it up, mostly under the case number
    colleagues = [{"ts": t, "user_id": f"x{i}", "agency": agencies[i % 2], "plate": "EX1", "case_number": "2025-0042" if i % 4 else ""}
                  for i, t in enumerate(days(48, step="6h"))]
    assert strength(run(alone), "repeat_plate")[-1] > 0.9
    together = run(sorted(alone + colleagues, key=lambda r: r["ts"]))
    mine = [i for i, r in enumerate(sorted(alone + colleagues, key=lambda r: r["ts"])) if "user_id" not in r]
    assert strength(together, "repeat_plate")[mine[-1]] < 0.3


def test_a_sweep_weighs_half_in_an_agency_whose_officers_sweep_circles_as_a_habit():
    """Where a good share of an agency's lookups of linked plates fall in sweeps (its detectives
    look up a suspect's household and associates every day), one more is its practice: it weighs
    ``sweep_practice_floor``; the habit of another agency changes nothing."""
    def habit(agency: str) -> list[dict]:  # colleagues sweeping 60 households of the register, one an hour
        return [{"ts": t.isoformat(), "user_id": f"d{k % 5}", "agency": agency, "plate": f"F{k}{x}", "case_number": ""}
                for k in range(60) for x, t in zip("ABC", pd.date_range(f"2025-09-{1 + k // 3:02d}T09:00:00Z", periods=3, freq="10min"))]

    sweep = [{"ts": t, "user_id": "u1", "plate": p, "reason": "inv"} for t, p in zip(days(4, start="2025-10-02T10:00:00Z", step="1h"), ["EX1", "KID1", "KID2", "ASSOC1"])]
    ctx = Detector(REF, load_policy("california")).features(make_batch(habit("Town PD") + sweep))
    assert ctx["agency_sweep_practice"].iloc[-1] > 0.05  # a third of 180 linked lookups complete a circle, beside a prior of none over 500
    assert strength(run(sweep), "household_sweep")[-1] == pytest.approx(1.0)
    assert strength(run(habit("Town PD") + sweep), "household_sweep")[-1] == pytest.approx(0.5)
    assert strength(run(habit("City PD") + sweep), "household_sweep")[-1] == pytest.approx(1.0)


def _busy(until: str = "2025-10-19T23:00:00Z") -> list[dict]:
    """Three weeks at about 200 searches a day, under case numbers, of the register's other households."""
    return [{"ts": t.isoformat(), "plate": f"F{i % 300}{'ABC'[i // 300 % 3]}", "case_number": "C-9"}
            for i, t in enumerate(pd.date_range("2025-10-01T00:00:00Z", until, freq="7min"))]


def test_a_busy_account_that_looks_one_plate_of_a_circle_up_again_and_again_is_sweeping():
    at = days(5, start="2025-10-20T10:00:00Z", step="5h")
    again = [{"ts": t, "plate": p} for t, p in zip(at, ["EX1", "EX1", "KID1", "EX1", "KID2"])]
    under_case = [dict(r, case_number="2025-7") if i == 1 else r for i, r in enumerate(again)]
    swept = run(_busy() + again)
    assert strength(swept, "household_sweep")[-1] > 0.9  # no account meets one plate thrice by chance
    details = [s["detail"] for a in swept.alerts for s in a.to_record()["signals"] if s["name"] == "household_sweep"]
    assert details and "one of them 3 times with nothing explaining it" in details[0]
    assert strength(run(_busy() + under_case), "household_sweep")[-1] < 0.2  # the case explains that plate's repeats


def test_a_sweep_weighs_each_lookup_by_its_own_reason_as_a_repeat_does():
    """A detective's sweep of a suspect's household names the offence lookup after lookup; a
    private one rarely names any. A lookup under a specific reason weighs 0.65, under a case
    number 0.3; the sweep's earlier, unexplained lookups still weigh in full."""
    rows = [{"ts": t, "plate": p} for t, p in zip(days(4), ["EX1", "KID1", "KID2", "ASSOC1"])]
    rows[3]["reason"] = "armed robbery"
    res = run(rows)
    assert strength(res, "household_sweep")[2] == pytest.approx(1.0)
    assert strength(res, "household_sweep")[3] == pytest.approx(0.65)
    rows[3]["case_number"] = "2025-11"
    assert strength(run(rows), "household_sweep")[3] < 0.5


def test_a_sweep_of_a_circle_one_of_whose_lookups_a_case_number_tied_weighs_half():
    """A suspect's plate under a case number, then their family's and associate's without one:
    the investigation of that case, in part; the same lookups with no case anywhere, a sweep."""
    plates = ["EX1", "KID1", "KID2", "ASSOC1"]
    rows = [{"ts": t, "plate": p, "reason": "inv"} for t, p in zip(days(4, step="1h"), plates)]
    assert strength(run(rows), "household_sweep")[-1] == pytest.approx(1.0)
    rows[0]["case_number"] = "2025-11"
    tied = run(rows)
    assert strength(tied, "household_sweep")[-1] == pytest.approx(0.5)
    # ... within the sweep window only: the same case eleven days before ties nothing
    rows[0]["ts"] = "2025-09-20T10:00:00Z"
    assert strength(run(rows), "household_sweep")[-1] == pytest.approx(1.0)


def test_a_colleague_who_looked_the_plates_up_before_makes_a_sweep_or_repeat_a_teams_case_in_part():
    """An investigation is often a team's: a colleague of the same agency looked up a plate of the
    circle within the sweep window before this user did. Such a sweep, or repeat, weighs half
    (``team_tie``) in a register of 20,000 households, where a colleague meets a given one by chance
    rarely; a user of another agency, or the same colleague eleven days before, ties nothing."""
    big = Reference(vehicles=with_register(REF.vehicles.iloc[:5], 20_000), relations=REF.relations, agencies=REF.agencies, users=REF.users)
    plates = ["EX1", "KID1", "KID2", "ASSOC1"]
    sweep = [{"ts": t, "user_id": "u1", "plate": p, "reason": "inv"} for t, p in zip(days(4, start="2025-10-02T10:00:00Z", step="1h"), plates)]

    def swept(rows: list[dict]) -> float:
        return strength(run(rows, reference=big), "household_sweep")[-1]

    def with_first(user: str, agency: str, ts: str = "2025-10-01T10:00:00Z") -> list[dict]:
        return [{"ts": ts, "user_id": user, "agency": agency, "plate": "KID1", "reason": "inv"}] + sweep

    assert swept(sweep) == pytest.approx(1.0)
    assert swept(with_first("u2", "Town PD")) == pytest.approx(0.5, abs=0.01)
    # ... which an alert it still opens tells its reviewer
    ctx = {"n": 4, "max_circle": 4.0, "circle_repeat": 1.0, "circle_team": 1.0}
    assert signal_detail("household_sweep", ctx).endswith("; a colleague of the same agency had looked one of them up within 10 days before (a shared case?)")
    assert "colleague" not in signal_detail("household_sweep", ctx | {"circle_team": 0.0})
    assert swept(with_first("x9", "City PD")) == pytest.approx(1.0)
    assert swept(with_first("u2", "Town PD", ts="2025-09-20T10:00:00Z")) == pytest.approx(1.0)
    # the user's own earlier lookup is no colleague's
    assert swept(with_first("u1", "Town PD")) == pytest.approx(1.0)

    stalk = [{"ts": t, "user_id": "u1", "plate": "EX1", "reason": "inv"} for t in days(15, start="2025-10-02T10:00:00Z")]
    alone = strength(run(stalk, reference=big), "repeat_plate")
    # a colleague's lookup a day before each of the last lookups: those weigh half
    joined = run(sorted(stalk + [{"ts": "2025-10-14T09:00:00Z", "user_id": "u2", "plate": "EX1", "reason": "inv"}], key=lambda r: r["ts"]), reference=big)
    repeat = strength(joined, "repeat_plate")
    assert alone[-1] > 0.9 and repeat[-1] == pytest.approx(0.5 * alone[-1], abs=0.01)
    assert repeat[:12] == pytest.approx(alone[:12])  # before the colleague came, the user's own
    # ... and an officer's own surname on a plate a colleague looked up the day before
    own = [{"ts": "2025-10-02T10:00:00Z", "user_id": "u1", "plate": "SELF1"}]
    assert strength(run(own, reference=big), "self_surname")[-1] == pytest.approx(1.0)
    colleague = [{"ts": "2025-10-01T10:00:00Z", "user_id": "u2", "plate": "SELF1"}]
    assert strength(run(colleague + own, reference=big), "self_surname")[-1] == pytest.approx(0.5, abs=0.01)


def test_a_colleagues_lookup_ties_nothing_where_the_agencys_searches_meet_everyone_by_chance():
    """An agency whose searches cover a small register over and over (3,000 in three days, of about
    300 households) meets every household by chance: a colleague's lookup there tells nothing."""
    busy = [{"ts": t.isoformat(), "user_id": "u3", "plate": f"F{i % 300}{'ABC'[i % 3]}"}
            for i, t in enumerate(pd.date_range("2025-09-28T00:00:00Z", "2025-10-01T00:00:00Z", periods=3000))]
    own = [{"ts": "2025-10-01T10:00:00Z", "user_id": "u2", "plate": "SELF1"}, {"ts": "2025-10-02T10:00:00Z", "user_id": "u1", "plate": "SELF1"}]
    ctx = Detector(REF, load_policy("california")).features(make_batch(busy + own))
    assert ctx["colleague_expected"].iloc[-1] > 20  # about 1,000 searches a day, ten days, 300 households
    assert strength(run(busy + own), "self_surname")[-1] == pytest.approx(1.0, abs=0.01)


def test_subject_swarm_counts_the_users_of_the_last_days_undecayed():
    agencies = ["Town PD", "City PD"]
    # ten users within three days: the decayed count reaches under seven, the four-day count ten
    swarm = [{"ts": t, "user_id": f"x{i}", "agency": agencies[i % 2], "plate": "EX1"} for i, t in enumerate(days(10, step="8h"))]
    res = run(swarm)
    ctx = Detector(REF, load_policy("california")).features(make_batch(swarm))
    assert ctx["plate_users"].iloc[-1] < 7.5 and ctx["plate_users_window"].iloc[-1] == 10
    assert strength(res, "subject_swarm")[-1] == pytest.approx(1.0)
    # five users over the same days are a plate several colleagues happened to look up
    few = [dict(r, user_id=f"x{i % 5}", agency=agencies[i % 5 % 2]) for i, r in enumerate(swarm)]
    assert strength(run(few), "subject_swarm").max() < 0.5


def test_personal_data_in_the_reason():
    res = run([{"reason": "DOB 04/12/1988 per request"}, {"reason": "search for female"}, {"reason": "1420 Oak Street"},
               {"reason": "10851 VC stolen vehicle"}, {"reason": "inv"}, {"reason": "my ex-wife"}])
    assert strength(res, "personal_data_reason").tolist() == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def test_a_stated_personal_purpose_alone_opens_an_alert():
    personal = ["checking on my ex", "personal", "ex-girlfriend", "my neighbor", "just curious"]
    lawful = ["personal injury collision", "personal property theft", "domestic violence - ex-wife"]
    res = run([{"ts": t, "plate": f"P{i}", "reason": r} for i, (t, r) in enumerate(zip(days(8), personal + lawful))])
    # (the domestic-violence lookup half: a relation beside a crime with a victim, without a case number)
    assert strength(res, "protected_reason").tolist() == [1.0] * 5 + [0.0] * 2 + [0.5]
    assert len(res.alerts) == 1 and len(res.alerts[0].search_ids) == 5  # one officer's episode
    # the same relation beside a crime and a case number names the victim's, not the officer's
    scene = run([{"reason": "DV - ex-boyfriend of victim", "case_number": "24-1188"}])
    assert strength(scene, "protected_reason")[0] == 0 and not scene.alerts


def test_nationwide_scope_against_the_users_own_reach():
    local_user = [{"ts": t, "plate": f"L{i}", "networks_searched": 2} for i, t in enumerate(days(10))]
    wide_user = [{"ts": t, "plate": f"W{i}", "networks_searched": 1500} for i, t in enumerate(days(10))]
    reach_out = run(local_user + [{"ts": "2025-10-20T10:00:00Z", "plate": "X1", "networks_searched": 1500}])
    as_usual = run(wide_user + [{"ts": "2025-10-20T10:00:00Z", "plate": "X1", "networks_searched": 1500}])
    assert strength(reach_out, "nationwide_scope")[-1] == 1.0
    assert strength(reach_out, "nationwide_scope")[:-1].max() == 0  # two networks is no nationwide search
    assert strength(as_usual, "nationwide_scope")[-1] == 0  # an account that always searches wide is not reaching out


def test_missing_case_number_and_vague_reason():
    res = run([{"reason": "inv"}, {"reason": "armed robbery"}, {"reason": "inv", "case_number": "2025-0042"}, {"reason": ""}])
    assert strength(res, "no_case_number").tolist() == [1.0, 1.0, 0.0, 1.0]
    assert strength(res, "vague_reason").tolist() == [1.0, 0.0, 1.0, 1.0]


def test_informal_sharing_counts_only_people_the_agency_has_no_history_of():
    run_rows = [{"ts": t, "plate": f"TX{i}", "plate_state": "TX", "networks_searched": 1500}
                for i, t in enumerate(days(20, start="2025-10-20T10:00:00Z", step="5min"))]
    # a colleague looked the same cars up in September, on the agency's own cameras, under a case
    known = [{"ts": t, "user_id": "u2", "plate": f"TX{i}", "plate_state": "TX", "networks_searched": 1, "case_number": "C-4"}
             for i, t in enumerate(days(20, start="2025-09-01T10:00:00Z", step="1h"))]
    elsewhere = [dict(r, agency="City PD") for r in known]  # ... or another agency did
    assert strength(run(known + run_rows), "informal_sharing").max() == 0
    assert strength(run(elsewhere + run_rows), "informal_sharing")[-1] > 0.9
    ctx = Detector(REF, load_policy("california")).features(make_batch(known + run_rows))
    assert ctx["far_new"].sum() == 0 and ctx["far"].sum() == 20  # far-reaching all, new to the agency none
