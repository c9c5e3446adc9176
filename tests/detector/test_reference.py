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
