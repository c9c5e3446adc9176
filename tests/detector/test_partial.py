"""Partial plates resolved against the vehicle register, and what that does to the features."""

from batches import REF, VEHICLES, days, make_batch
from detector.engine import Detector
from detector.partial import PlateRegister
from detector.policy import load_policy
from detector.reference import Reference

PLATES = ["6YBN727", "6YBN721", "4GUT238", "8XEB998", "8XEB99", "2JLZ431"]
# a register of five plates, in which a pattern fixing two characters stands for a plate
FIVE = Reference(vehicles=VEHICLES, relations=REF.relations, users=REF.users, agencies=REF.agencies)


def test_a_pattern_that_matches_one_registered_plate_stands_for_it():
    register = PlateRegister(PLATES)
    # interior wildcards are one character each; ? is one too; a trailing * is any suffix
    assert register.resolve(["6*BN*27", "4G?T238", "2JLZ*", "8XEB99*"]) == ["6YBN727", "4GUT238", "2JLZ431", None]
    # 8XEB99* matches both 8XEB99 and 8XEB998: ambiguous; an interior * is exactly one character
    assert register.resolve(["8XEB*", "8XEB9*8", "8XEB*98*"]) == [None, "8XEB998", "8XEB998"]


def test_nothing_is_resolved_that_could_be_an_unregistered_car_by_chance():
    register = PlateRegister(PLATES)
    assert register.resolve(["6YBN72*", "***", "*", "", "7ZZZ*", "6YBN7277", "É*BN727"]) == [None] * 7
    # the bar is the chance matches expected, not a fixed count: in a register of 100,000 plates a pattern
    # fixing four characters would match one by chance 6% of the time, too often to stand for it
    big = PlateRegister(PLATES + [f"{i:07d}" for i in range(100_000)])
    assert (PlateRegister(PLATES).least_fixed, big.least_fixed) == (2, 5)
    assert big.resolve(["4GUT*", "4GUT2*", "4GU*238"]) == [None, "4GUT238", "4GUT238"]
    assert PlateRegister([]).resolve(["6*BN*27"]) == [None]


def _up_count(rows, reference):
    det = Detector(reference, load_policy("california"))
    return det.features(make_batch(rows))["up_count"].tolist()


def test_partial_lookups_count_toward_the_plate_they_stand_for():
    typed = ["EX1", "E?1", "EX*", "EX1", "*X1"]
    rows = [{"ts": t, "plate": p, "reason": "inv"} for t, p in zip(days(5), typed)]
    no_register = Reference(users=REF.users, agencies=REF.agencies)
    # each partial is a plate of its own without a register, one more lookup of EX1 with one
    assert _up_count(rows, FIVE)[-2:] == [4.0, 5.0]
    assert _up_count(rows, no_register)[-2:] == [2.0, 1.0]


def test_a_resolved_partial_joins_the_swarm_on_its_plate():
    agencies = ["Town PD", "City PD"]
    typed = ["EX1", "EX*", "E*1", "EX1", "EX*", "EX1", "E?1", "EX1"]
    rows = [{"ts": t, "user_id": f"x{i}", "agency": agencies[i % 2], "plate": p} for i, (t, p) in enumerate(zip(days(8, step="2h"), typed))]
    ctx = Detector(FIVE, load_policy("california")).features(make_batch(rows))
    assert set(ctx["plate"]) == {"EX1"}
    assert ctx["plate_users_window"].iloc[-1] == 8
