"""Reference lookups: which sensitive site a search circle falls near."""

import numpy as np
import pandas as pd

from detector.reference import Reference

# Around the point (37, -122): a small clinic circle 500 m east, a school about 110 m north-east
# (small circle), and a large protest zone 900 m west whose 920 m circle covers the point.
SITES = pd.DataFrame({
    "site_id": ["clinic", "school", "protest"], "category": ["reproductive_health", "school", "protest"], "name": ["", "", ""],
    "lat": [37.0, 37.0009, 37.0], "lon": [-122.0 + 0.00563, -121.9995, -122.0 - 0.01013], "radius_m": [100.0, 50.0, 920.0],
})
PRIORITY = np.array([1.0, 0.4, 1.0])


def near(lat, lon, radius):
    ref = Reference(sites=SITES)
    found = ref.sites_near(np.array(lat, float), np.array(lon, float), np.array(radius, float), PRIORITY)
    return [SITES["site_id"][i] if i >= 0 else "" for i in found]


def test_a_large_circle_a_little_farther_counts_when_the_nearest_misses():
    # the school's centre is nearest (110 m) but its 50 m circle misses a 10 m search; the protest zone covers it
    assert near([37.0], [-122.0], [10.0]) == ["protest"]


def test_of_several_overlapping_sites_the_weightiest_then_the_nearest_wins():
    # a 450 m circle reaches the school (0.4), the clinic (1.0, 500 m) and lies in the protest zone (1.0, 900 m)
    assert near([37.0], [-122.0], [450.0]) == ["clinic"]
    # only the school: still found
    assert near([37.0009], [-121.9995], [0.0]) == ["school"]


def test_points_without_a_place_or_far_from_every_site_are_near_none():
    assert near([np.nan, 38.0], [-122.0, -122.0], [100.0, 100.0]) == ["", ""]
    assert Reference().sites_near(np.array([37.0]), np.array([-122.0]), np.array([10.0]), np.zeros(0)).tolist() == [-1]


def test_the_register_gives_each_plate_its_owner_household_and_circle():
    vehicles = pd.DataFrame({"plate": ["A1", "A2", "B1", "C1", "E1", "F1", "G1", "A2"],
                             "household_id": ["h1", "h1", "", "", "", "", "h9", "h1"],
                             "owner_surname": ["Ames", "Ames", "Bell", "Cole", "Eddy", "Eddy", "", "Amis"]})
    relations = pd.DataFrame({"plate_a": ["B1"], "plate_b": ["C1"], "kind": ["associate"]})
    ref = Reference(vehicles=vehicles, relations=relations)
    facts = ref.plate_facts(["A1", "A2", "G1", "ZZ9"])
    assert facts.registered.tolist() == [True, True, True, False]
    assert facts.owner[0] == ref.surname_codes["AMES"] and facts.owner[1] == ref.surname_codes["AMIS"]  # a plate's last row wins
    assert facts.owner[2:].tolist() == [-1, -1]  # no surname, no register entry
    # households carrying the name: E1 and F1 have no household id, so each is one of its own
    assert ref.plate_facts(["E1", "A1"]).households.tolist() == [2.0, 1.0]

    def circle(plate):
        row = ref.links.row[ref._plates.find([plate])[0]]
        if row < 0:
            return None, set()
        return ref.links.person[row], {ref.links.person[r] for r in ref.links.near[ref.links.start[row]:ref.links.start[row + 1]]}

    assert circle("A1") == ("hh:h1", {"hh:h1"})  # A2, of the same household
    assert circle("B1") == ("B1", {"C1"})  # no household, but an associate
    assert circle("E1") == (None, set())  # no household id is no household shared with every other such vehicle


def test_without_a_register_each_related_plate_is_a_person_of_its_own():
    # relations.csv alone: every plate is alone, and each is the person it names (once cut to the
    # width of an empty register's names, "9ABC123" and "9XYZ789" were one person, "9")
    relations = pd.DataFrame({"plate_a": ["9ABC123", "9XYZ789"], "plate_b": ["7LONGPLATE1", "8DEF456"], "kind": ["associate"] * 2})
    ref = Reference(relations=relations)
    rows = ref.links.row[ref._plates.find(["9ABC123", "9XYZ789", "7LONGPLATE1", "8DEF456"])]
    assert ref.links.person[rows].tolist() == ["9ABC123", "9XYZ789", "7LONGPLATE1", "8DEF456"]
    assert set(ref.links.near[ref.links.start[rows[0]]:ref.links.start[rows[0] + 1]].tolist()) == {rows[2]}


def test_an_employer_or_a_hub_is_in_its_neighbours_circles_they_are_not_in_its():
    staff = [f"S{i}" for i in range(14)]
    vehicles = pd.DataFrame({"plate": ["W1", "W2", "A1", "H1", *staff], "household_id": ["hw", "hw", "ha", "hh", *staff],
                             "owner_surname": ["Works", "Works", "Ames", "Hub", *staff]})
    # W1 employs A1 and S0; H1 is associated with fourteen households: a hub
    relations = pd.DataFrame({"plate_a": ["W1", "S0", *["H1"] * 14], "plate_b": ["A1", "W1", *staff],
                              "kind": ["employer", "employer", *["associate"] * 14]})
    ref = Reference(vehicles=vehicles, relations=relations)
    links = ref.links

    def rows(plate, start, near):
        r = links.row[ref._plates.find([plate])[0]]
        return sorted(links.person[q] for q in near[start[r]:start[r + 1]])

    assert rows("A1", links.start, links.near) == ["hh:hw", "hh:hw"]  # W1 and W2: where A1's owner works
    assert rows("W1", links.start, links.near) == ["hh:hw"]  # W2 only: not A1, not S0
    assert rows("W1", links.back_start, links.back_near) == ["hh:S0", "hh:ha"]  # whose circles hold W1
    assert rows("S3", links.start, links.near) == ["hh:hh"]
    assert rows("H1", links.start, links.near) == [] and len(rows("H1", links.back_start, links.back_near)) == 14
