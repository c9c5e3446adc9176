"""The user side's state: what it spares is only what could not count, and it resumes from older checkpoints."""

import numpy as np
import pandas as pd
import pytest

from batches import REF, make_batch
from detector.engine import Detector
from detector.features import USER_FEATURES, UserSide
from detector.policy import load_policy
from detector.reference import Reference

CIRCLE = USER_FEATURES.index("circle_plates")


def _rows() -> list[dict]:
    """65 users, so that the first and the last share a bit of ``row_users``; then both on one household."""
    start = pd.Timestamp("2025-10-01T08:00:00Z")
    at = [(start + pd.Timedelta(minutes=i)).isoformat() for i in range(70)]
    rows = [{"ts": at[i], "user_id": f"x{i}", "plate": f"NOBODY{i}"} for i in range(65)]
    rows += [{"ts": at[65], "user_id": "x0", "plate": "EX1"}, {"ts": at[66], "user_id": "x0", "plate": "KID1"},
             {"ts": at[67], "user_id": "x64", "plate": "KID2"}, {"ts": at[68], "user_id": "x0", "plate": "KID2"}]
    return rows


def test_users_sharing_a_bit_do_not_see_each_others_lookups():
    ctx = Detector(REF, load_policy("california")).features(make_batch(_rows()))
    # x64 shares x0's bit: only the exact lookup tells that x64 met one plate of the household, x0 three
    assert ctx["circle_plates"].tolist()[-2:] == [1.0, 3.0]


def test_a_checkpoint_from_before_row_users_resumes_to_the_same_features():
    rows = _rows()
    det = Detector(REF, load_policy("california"))
    whole = det.features(make_batch(rows))
    first, rest = make_batch(rows[:66]), make_batch(rows[66:])
    det = Detector(REF, load_policy("california"))
    det.features(first)
    arrays = det.user_side.to_arrays()
    del arrays["array.row_users"], arrays["array.links_digest"], arrays["linked.rep"]  # as written by the version before them
    resumed = UserSide()
    resumed.load_arrays(arrays)
    det.user_side = resumed
    again = det.features(rest)
    np.testing.assert_array_equal(again["circle_plates"].to_numpy(), whole["circle_plates"].to_numpy()[66:])
    assert again["circle_plates"].tolist() == [2.0, 1.0, 3.0]


def test_a_state_is_refused_against_other_circles_even_of_as_many_plates():
    det = Detector(REF, load_policy("california"))
    det.features(make_batch(_rows()[:66]))
    arrays = det.user_side.to_arrays()
    # the same plates linked otherwise: KID2 moves to a household of the register, EX1 and KID1 stay together
    vehicles = REF.vehicles.assign(household_id=REF.vehicles["household_id"].mask(REF.vehicles["plate"] == "KID2", "f0"))
    moved = Reference(vehicles=vehicles, relations=REF.relations, users=REF.users, agencies=REF.agencies, sites=REF.sites)
    assert len(moved.links.start) == len(REF.links.start) and moved.links.digest != REF.links.digest
    other = Detector(moved, load_policy("california"))
    other.user_side.load_arrays(arrays)
    with pytest.raises(ValueError, match="reference files changed since the state was saved"):
        other.features(make_batch(_rows()[66:]))
    same = Detector(REF, load_policy("california"))  # the same files read again: the same circles
    same.user_side.load_arrays(arrays)
    assert same.features(make_batch(_rows()[66:]))["circle_plates"].tolist() == [2.0, 1.0, 3.0]


def test_the_four_day_user_count_follows_calendar_days_and_ignores_searches_older_than_it():
    from detector.features import TARGET_FEATURES, TargetSide
    from detector.schema import NS_DAY
    from detector.state import Keys

    window = TARGET_FEATURES.index("plate_users_window")
    side = TargetSide()

    def run(days: list[float], users: list[str]) -> list[float]:
        t = (np.array(days) * NS_DAY).astype(np.int64) + 20 * 365 * NS_DAY
        n = len(t)
        out = side.run(t, Keys.of(pd.Series(["P1"] * n)), Keys.of(pd.Series(users)), Keys.of(pd.Series(["A"] * n)), np.zeros(n),
                       np.zeros(n, bool))
        before.extend(out[TARGET_FEATURES.index("plate_users_before")])
        return out[window].tolist()

    before: list[float] = []
    d = np.exp(-1 / 14)  # a day's decay of the earlier users
    # one new user a day for six days: at most the four of the last four calendar days; the users
    # of the days that left them (day 0's on day 4, day 1's on day 5) count as earlier
    assert run([0.5, 1.5, 2.5, 3.5, 4.5, 5.5], ["a", "b", "c", "d", "e", "f"]) == [1, 2, 3, 4, 4, 4]
    assert before == pytest.approx([0, 0, 0, 0, 1, 1 + d])
    assert run([5.9], ["c"]) == [4]  # c looked it up three days ago: counted once
    assert run([5.95], ["a"]) == [5]  # back after over four days: new to the plate again
    assert run([0.2], ["late"]) == [5]  # from before the four days: counted nowhere
    assert run([12.5], ["g"]) == [1]  # a week idle: the ring starts afresh ...
    # ... its days 2 to 5 (one user each, day 5 two) left it on days 6 to 9, decayed from then to day 12
    assert before[-1] == pytest.approx((((1 + d) * d + 1) * d ** 3 + d ** 2 + d + 2) * d ** 3)


def test_a_target_side_checkpoint_from_before_the_four_day_count_loads_with_it_empty():
    from detector.features import TARGET_FEATURES, TargetSide
    from detector.schema import NS_DAY
    from detector.state import Keys

    def run(side: TargetSide, day: float, user: str) -> np.ndarray:
        t = np.array([int((20 * 365 + day) * NS_DAY)])
        return side.run(t, Keys.of(pd.Series(["P1"])), Keys.of(pd.Series([user])), Keys.of(pd.Series(["A"])), np.zeros(1),
                        np.zeros(1, bool))

    side = TargetSide()
    run(side, 0.5, "a")
    arrays = side.to_arrays()
    del arrays["plate.wday"], arrays["plate.wb"]
    resumed = TargetSide()
    resumed.load_arrays(arrays)
    out = run(resumed, 1.5, "b")
    assert out[TARGET_FEATURES.index("plate_users"), 0] > 1.5  # the decayed count carried over
    assert out[TARGET_FEATURES.index("plate_users_window"), 0] == 1  # the four-day count starts afresh with b


def test_a_user_side_checkpoint_from_before_the_agency_counts_loads_with_them_empty():
    near = {"search_type": "area", "lat": 37.7705, "lon": -122.4205, "radius_m": 100}
    colleague = [dict(near, ts=f"2025-10-0{d}T10:00:00Z", user_id="u2") for d in (1, 2, 3)]
    mine = [dict(near, ts="2025-10-05T10:00:00Z", user_id="u1")]
    det = Detector(REF, load_policy("california"))
    det.features(make_batch(colleague))
    arrays = det.user_side.to_arrays()
    carried = det.features(make_batch(mine))
    assert carried[["peer_site_count", "peer_located", "located_count"]].iloc[0].tolist() == [3.0, 3.0, 1.0]
    old = {k: v for k, v in arrays.items()
           if not k.startswith(("agency_site.", "agency_person.")) and k not in ("user.located", "agency.located")}
    resumed = Detector(REF, load_policy("california"))
    resumed.user_side.load_arrays(old)
    again = resumed.features(make_batch(mine))
    assert again[["peer_site_count", "peer_located", "located_count"]].iloc[0].tolist() == [0.0, 0.0, 1.0]
    back = resumed.features(make_batch([dict(near, ts="2025-10-06T10:00:00Z", user_id="u2")]))
    assert back[["site_days", "peer_site_count"]].iloc[0].tolist() == [4.0, 0.0]  # own days carried over; never fewer than no passes


def test_a_user_side_checkpoint_from_before_weighted_site_days_counts_its_days_as_unexplained():
    near = {"search_type": "area", "lat": 37.7705, "lon": -122.4205, "radius_m": 100}
    days = [dict(near, ts=f"2025-10-0{d}T10:00:00Z", reason="burglary suspect") for d in (1, 2, 3)]
    det = Detector(REF, load_policy("california"))
    det.features(make_batch(days))
    arrays = det.user_side.to_arrays()
    assert arrays["site.wdays"].tolist() == [1.5]  # three days under a specific reason
    old = {k: v for k, v in arrays.items() if k not in ("site.wdays", "site.daymax")}
    resumed = Detector(REF, load_policy("california"))
    resumed.user_side.load_arrays(old)
    same_day = resumed.features(make_batch([dict(near, ts="2025-10-03T12:00:00Z")]))
    assert same_day[["site_days", "site_wdays"]].iloc[0].tolist() == [3.0, 3.0]  # the day was counted whole already
    later = resumed.features(make_batch([dict(near, ts="2025-10-04T10:00:00Z", reason="burglary suspect")]))
    assert later[["site_days", "site_wdays"]].iloc[0].tolist() == [4.0, 3.5]


def test_a_user_side_checkpoint_from_before_case_practice_resumes_even_and_without_fixations():
    cased = [{"ts": f"2025-10-{d:02d}T10:00:00Z", "plate": f"P{d}", "case_number": "2025-7"} for d in range(1, 21)]
    det = Detector(REF, load_policy("california"))
    det.features(make_batch(cased))
    arrays = det.user_side.to_arrays()
    nxt = make_batch([{"ts": "2025-10-25T10:00:00Z", "plate": "X1"}])
    carried = det.features(nxt)
    assert carried[["own_case_practice", "agency_case_practice"]].iloc[0].tolist() == pytest.approx([1.0, 0.75])  # the agency: 20 with one beside the 20 at 0.5 it starts from
    old = {k: v for k, v in arrays.items() if k not in ("user.fix", "user.case_practice", "agency.searches", "agency.case_practice")}
    resumed = Detector(REF, load_policy("california"))
    resumed.user_side.load_arrays(old)
    again = resumed.features(nxt)
    # nothing known of the habit: even, as a new agency's, and no fixation counted
    assert again[["own_case_practice", "agency_case_practice", "fixations"]].iloc[0].tolist() == [0.5, 0.5, 0.0]


def _shift_then_nights(nights: int) -> list[dict]:
    """u1 at work from 10:00 to 15:00 for 60 days, then its lookups of one plate on ``nights``
    nights, each at another hour (a night hour it came back to would soon be one of its hours)."""
    work = [{"ts": (day + pd.Timedelta(hours=h)).isoformat(), "plate": f"W{i}{h}"}
            for i, day in enumerate(pd.date_range("2025-08-01T10:00:00Z", periods=60, freq="1D")) for h in range(5)]
    night = [{"ts": f"2025-10-{d:02d}T{d % 6:02d}:00:00Z", "plate": "EX1"} for d in range(1, nights + 1)]
    return work + night


def test_the_off_shift_lookups_of_a_plate_are_counted_per_pair_and_afresh_after_forgetting():
    det = Detector(REF, load_policy("california"))
    ctx = det.features(make_batch(_shift_then_nights(5) + [{"ts": "2025-10-06T10:30:00Z", "plate": "EX1"}]))
    # the account's 300 searches of history make its hours known; the sixth lookup is in its shift
    assert ctx["up_offshift"].tolist()[-6:] == [1.0, 2.0, 3.0, 4.0, 5.0, 5.0]
    assert ctx["up_offshift"].iloc[:300].max() == 0  # its work: in shift, or before its hours were known
    # forgotten with the pair once idle beyond memory, as its other counts are
    short = Detector(REF, load_policy("california"))
    short.user_side = UserSide(forget_days=20)
    short.features(make_batch(_shift_then_nights(5)))
    back = short.features(make_batch([{"ts": "2025-11-20T03:00:00Z", "plate": "EX1"}]))
    assert back[["up_count", "up_offshift"]].iloc[0].tolist() == [1.0, 1.0]


def test_a_user_side_checkpoint_from_before_off_shift_counts_counts_from_then_on():
    det = Detector(REF, load_policy("california"))
    det.features(make_batch(_shift_then_nights(3)))
    old = {k: v for k, v in det.user_side.to_arrays().items() if k != "pair.off"}
    resumed = Detector(REF, load_policy("california"))
    resumed.user_side.load_arrays(old)
    again = resumed.features(make_batch([{"ts": "2025-10-05T03:00:00Z", "plate": "EX1"}]))
    assert again[["up_count", "up_offshift"]].iloc[0].tolist() == [4.0, 1.0]
